"""A language model as judge of answers, the RAGAS way: faithfulness and answer relevancy.

Faithfulness: the answer is split into claims, then the model says for each whether the retrieved context
supports it; the score is the share supported. Relevancy: the model rates 0–1 how well the answer addresses
the question. Prompts are ``prompts/judge_*.md``. The judge is the configured chat model, so it grades its
own answers in LLM mode — a known bias; point INSPIRED_LLM at a stronger model for a fairer grade.
"""

from __future__ import annotations

import logging

from langchain_core.language_models import BaseChatModel
from pydantic import BaseModel, Field

from ..compose.drafting import prompt_messages
from ..compose.llm import LLMFailure, invoke_json
from ..models import Answer
from .support import answer_sentences

log = logging.getLogger(__name__)

MAX_CLAIMS = 12
SKIPPED = "skipped: no LLM configured"


class Claims(BaseModel):
    claims: list[str]


class Verdict(BaseModel):
    claim: int | str = ""
    supported: bool
    reason: str = ""


class Verdicts(BaseModel):
    verdicts: list[Verdict]


class Relevancy(BaseModel):
    score: float = Field(ge=0.0, le=1.0)
    reason: str = ""


class Judge:
    def __init__(self, chat_model: BaseChatModel):
        self.chat_model = chat_model
        self.failures = 0

    def claims(self, question: str, answer: str) -> list[str]:
        reply = invoke_json(
            self.chat_model,
            prompt_messages("judge_system", "judge_claims", question=question, answer=answer, max_claims=str(MAX_CLAIMS)),
            Claims,
        )
        return [claim.strip() for claim in reply.claims if claim.strip()][:MAX_CLAIMS]

    def faithfulness(self, question: str, answer: str, contexts: list[str]) -> float | None:
        """Share of the answer's claims the context supports; None for an answer that makes no claim.

        Verdicts the model leaves out count as unsupported, so a lazy judge cannot inflate the score.
        """
        claims = self.claims(question, answer)
        if not claims:
            return None
        reply = invoke_json(
            self.chat_model,
            prompt_messages(
                "judge_system", "judge_verdicts",
                context="\n\n".join(f"[{n}] {text}" for n, text in enumerate(contexts, 1)),
                claims="\n".join(f"{n}. {claim}" for n, claim in enumerate(claims, 1)),
            ),
            Verdicts,
        )
        supported = sum(v.supported for v in reply.verdicts[: len(claims)])
        return supported / len(claims)

    def relevancy(self, question: str, answer: str) -> float:
        reply = invoke_json(self.chat_model, prompt_messages("judge_system", "judge_relevancy", question=question, answer=answer), Relevancy)
        return reply.score

    def grade(self, question: str, answer: Answer, contexts: list[str]) -> tuple[float | None, float | None]:
        """(faithfulness, relevancy) of one answer; a judge call that fails gives None and is counted.

        The judge sees the answer's sentences only: no citation markers, no "extract of the guide" labels.
        """
        text = " ".join(sentence.text for sentence in answer_sentences(answer.markdown))
        return self._guarded(self.faithfulness, question, text, contexts), self._guarded(self.relevancy, question, text)

    def _guarded(self, metric, *args) -> float | None:
        try:
            return metric(*args)
        except LLMFailure as failure:
            log.warning("judge call failed: %s", str(failure).splitlines()[0][:200])
            self.failures += 1
            return None
