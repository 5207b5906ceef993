"""Resume state of uploads, one small JSON file each under ~/.cache/s3multipart.

A file is known by the CKAN site, dataset, target resource, its absolute path, size and
modification time (and, in a batch, its name there): running the same command again on
the unchanged file finds the upload it started (or the resource it already made), and a
changed file starts over.
The state holds upload ids and key prefixes, no credentials or tokens.
"""
from __future__ import annotations

import contextlib
import hashlib
import json
import os
import pathlib
import tempfile
from typing import Any


def state_dir() -> pathlib.Path:
    cache = os.environ.get("XDG_CACHE_HOME") or os.path.join(pathlib.Path.home(), ".cache")
    return pathlib.Path(cache) / "s3multipart"


class Record:
    """The saved state of one file's upload."""

    def __init__(self, ckan_url: str, dataset: str, resource_id: str | None,
                 path: pathlib.Path, directory: pathlib.Path | None = None,
                 name: str | None = None) -> None:
        stat = path.stat()
        # A file of a batch is known by its name there too (its key follows the name).
        place = [name] if name is not None else []
        identity = json.dumps([ckan_url.rstrip("/"), dataset, resource_id or "",
                               str(path.resolve()), stat.st_size, stat.st_mtime_ns, *place])
        name = hashlib.sha256(identity.encode()).hexdigest()[:32] + ".json"
        self.path = (directory or state_dir()) / name

    def load(self) -> dict[str, Any] | None:
        try:
            with open(self.path, encoding="utf-8") as f:
                state = json.load(f)
        except (OSError, ValueError):
            return None
        return state if isinstance(state, dict) else None

    def save(self, state: dict[str, Any]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        # Written whole or not at all: a crash must not leave half a state behind.
        handle, temporary = tempfile.mkstemp(dir=self.path.parent, suffix=".tmp")
        with os.fdopen(handle, "w", encoding="utf-8") as f:
            json.dump(state, f)
        os.replace(temporary, self.path)

    def clear(self) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()
