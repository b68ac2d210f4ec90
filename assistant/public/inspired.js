// Chainlit 2.11+ opens the sources panel by itself whenever a message carries citations, showing every source at
// once under the last one's number (Chainlit issue #2979). Here it opens only when the reader clicks a citation.
(function () {
  const CLICK_WINDOW_MS = 1500;
  let clickedAt = 0;
  let shownTitle = null;

  document.addEventListener(
    "click",
    (event) => {
      if (event.target.closest("a.element-link")) clickedAt = Date.now();
    },
    true,
  );

  new MutationObserver(() => {
    const title = document.getElementById("side-view-title");
    const text = title ? title.textContent : null;
    if (text === shownTitle) return; // streaming text elsewhere: leave an open panel alone
    shownTitle = text;
    if (title && Date.now() - clickedAt > CLICK_WINDOW_MS) {
      const close = title.querySelector("button");
      if (close) close.click();
    }
  }).observe(document.body, { childList: true, subtree: true, characterData: true });
})();
