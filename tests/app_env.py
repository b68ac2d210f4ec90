"""Import before chainlit in tests: Chainlit writes its config into CHAINLIT_APP_ROOT (default: the
current directory) on import, so point it at a throw-away folder holding our generated config."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from assistant.chainlit_home import prepare_home
from assistant.settings import Settings

if "CHAINLIT_APP_ROOT" not in os.environ:
    scratch = Path(tempfile.mkdtemp(prefix="inspired-chainlit-"))
    os.environ["CHAINLIT_APP_ROOT"] = str(prepare_home(Settings(_env_file=None, data_dir=scratch)))
