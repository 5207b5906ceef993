"""Checksums: a part's Content-MD5, and of a stream read once the MD5 of each part (S3's
multipart ETag is the MD5 of those), MD5 and SHA-256 of the whole. No CKAN, no boto3."""
from __future__ import annotations

import base64
import hashlib
from typing import IO


def content_md5(data: bytes) -> str:
    """The Content-MD5 header of a request with this body: S3 refuses the body with
    BadDigest when what it received differs."""
    return base64.b64encode(hashlib.md5(data).digest()).decode()


class Digest:
    """Hashes of a stream read once: MD5 of each part (S3's multipart ETag is the MD5 of
    those), MD5 and SHA-256 of the whole."""

    def __init__(self, part_size: int) -> None:
        self.part_size = part_size
        self.md5, self.sha256 = hashlib.md5(), hashlib.sha256()
        self.part_md5s: list[bytes] = []
        self._part, self._part_fill = hashlib.md5(), 0
        self.size = 0

    def update(self, data: bytes) -> None:
        self.md5.update(data)
        self.sha256.update(data)
        self.size += len(data)
        view = memoryview(data)
        while view:
            take = min(len(view), self.part_size - self._part_fill)
            self._part.update(view[:take])
            self._part_fill += take
            view = view[take:]
            if self._part_fill == self.part_size:
                self.part_md5s.append(self._part.digest())
                self._part, self._part_fill = hashlib.md5(), 0

    def etags(self) -> set[str]:
        """The ETags S3 gives this content: one PUT, or a multipart upload of these parts."""
        md5s = self.part_md5s + ([self._part.digest()] if self._part_fill else [])
        multipart = hashlib.md5(b"".join(md5s)).hexdigest() + f"-{max(1, len(md5s))}"
        return {self.md5.hexdigest(), multipart}


class HashingReader:
    """A file read once, front to back, hashing as it goes. Not seekable, so s3transfer
    reads it exactly once in order (and keeps at most a few parts in memory)."""

    def __init__(self, fileobj: IO[bytes], digest: Digest) -> None:
        self.fileobj, self.digest = fileobj, digest

    def read(self, size: int = -1) -> bytes:
        data = self.fileobj.read(size)
        self.digest.update(data)
        return data

    def seekable(self) -> bool:
        return False

    def readable(self) -> bool:
        return True
