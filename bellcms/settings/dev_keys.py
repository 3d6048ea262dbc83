"""Source keys for the embedded default: made once in the var directory, and said so.

Production never calls this: there the keys come from the environment or nowhere.
"""

import base64
import os
import secrets
import sys
from pathlib import Path

KEYS_FILE = "source-keys.env"


def dev_source_keys_load(var_dir: Path) -> None:
    """Put SOURCE_MASTER_KEY and SOURCE_INDEX_KEY in the environment, unless set there
    already, from ``var_dir/source-keys.env``; make that file (mode 600) on first start."""
    if os.environ.get("SOURCE_MASTER_KEY") and os.environ.get("SOURCE_INDEX_KEY"):
        return
    path = Path(var_dir) / KEYS_FILE
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        master = base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()
        index = secrets.token_urlsafe(48)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as out:
            out.write(f"SOURCE_MASTER_KEY={master}\nSOURCE_INDEX_KEY={index}\n")
        print(
            f"Made development keys for source identities in {path} (first start). "
            "Production reads SOURCE_MASTER_KEY and SOURCE_INDEX_KEY from the environment.",
            file=sys.stderr,
        )
    for line in path.read_text().splitlines():
        name, _, value = line.partition("=")
        if name in {"SOURCE_MASTER_KEY", "SOURCE_INDEX_KEY"} and value:
            os.environ.setdefault(name, value)
