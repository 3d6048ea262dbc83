"""Where the project lives and where an installation keeps its files (database, broker, outbox)."""

import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = Path(os.environ.get("BELLCMS_VAR_DIR", BASE_DIR / "var"))
