"""The export's directory: files written only when their bytes change, and a manifest of what
the export wrote, so that a rerun knows what it may keep and what it must remove.

Only files the manifest names are ever removed: a mirror's own files (a CNAME, a .git
directory, a README) are left alone.
"""

import hashlib
import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from .errors import ExportError

MANIFEST = ".bellcms-export.json"
MANIFEST_FORMAT = 1


def digest(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


@dataclass
class Manifest:
    """Every file of the copy with its hash, and per issue its fingerprint and files."""

    files: dict[str, str] = field(default_factory=dict)
    issues: dict[str, dict] = field(default_factory=dict)
    unreadable: bool = False

    @classmethod
    def read(cls, path: Path) -> "Manifest":
        if not path.exists():
            return cls()
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return cls(unreadable=True)
        if not isinstance(data, dict) or data.get("format") != MANIFEST_FORMAT:
            return cls(unreadable=True)
        return cls(files=dict(data.get("files", {})), issues=dict(data.get("issues", {})))

    def to_bytes(self) -> bytes:
        data = {"format": MANIFEST_FORMAT, "files": self.files, "issues": self.issues}
        return (json.dumps(data, ensure_ascii=False, indent=1, sort_keys=True) + "\n").encode()


class ExportDirectory:
    """A directory the copy is written into: checked once, then written file by file."""

    def __init__(self, root: Path):
        self.root = Path(root)
        self._check()
        self.manifest_path = self.root / MANIFEST

    def _check(self) -> None:
        if self.root.exists() and not self.root.is_dir():
            raise ExportError(f"{self.root} is a file, not a directory.")
        try:
            self.root.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise ExportError(f"Cannot create {self.root}: {error.strerror or error}.") from error
        if not os.access(self.root, os.W_OK | os.X_OK):
            raise ExportError(f"{self.root} is not writable.")
        try:  # os.access trusts permission bits; a read-only mount says no only when tried
            with tempfile.TemporaryFile(dir=self.root):
                pass
        except OSError as error:
            raise ExportError(f"{self.root} is not writable: {error.strerror or error}.") from error

    def path(self, name: str) -> Path:
        path = (self.root / name).resolve()
        if self.root.resolve() not in path.parents:
            raise ExportError(f"{name!r} would be written outside {self.root}.")
        return path

    def has(self, name: str, content_digest: str | None = None) -> bool:
        path = self.path(name)
        if not path.is_file():
            return False
        return content_digest is None or digest(path.read_bytes()) == content_digest

    def write(self, name: str, content: bytes) -> bool:
        """Write ``content`` unless the file already holds exactly it (its mtime is then kept).
        True when written. The file is replaced whole, never seen half-written."""
        path = self.path(name)
        try:
            if path.is_file() and path.read_bytes() == content:
                return False
            path.parent.mkdir(parents=True, exist_ok=True)
            handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".bellcms-")
            try:
                with os.fdopen(handle, "wb") as file:
                    file.write(content)
                os.chmod(temporary, 0o644)
                os.replace(temporary, path)
            except BaseException:
                Path(temporary).unlink(missing_ok=True)
                raise
        except OSError as error:
            raise ExportError(f"Cannot write {path}: {error.strerror or error}.") from error
        return True

    def remove(self, name: str) -> bool:
        """Remove a file the copy no longer has, and the directories it leaves empty."""
        path = self.path(name)
        try:
            if not path.is_file():
                return False
            path.unlink()
            parent = path.parent
            while parent != self.root.resolve() and not any(parent.iterdir()):
                parent.rmdir()
                parent = parent.parent
        except OSError as error:
            raise ExportError(f"Cannot remove {path}: {error.strerror or error}.") from error
        return True

    def manifest(self) -> Manifest:
        return Manifest.read(self.manifest_path)
