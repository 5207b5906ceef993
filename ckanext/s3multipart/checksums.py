"""Checksums: a part's Content-MD5, a file's SHA-256 (what a resource's `hash` holds),
and of a stream read once the MD5 of each part (S3's multipart ETag is the MD5 of those),
MD5 and SHA-256 of the whole. No CKAN, no boto3."""
from __future__ import annotations

import base64
import hashlib
from typing import IO, Any

HASH_ALGORITHM = "sha256"  # a resource's `hash_algorithm`, as ckanext-dcat reads it
_CHUNK = 8 * 1024**2


def sha256_of(stream: IO[bytes]) -> str:
    """The SHA-256 (lowercase hex) of a seekable stream from where it is to its end, read
    in chunks; the stream is put back where it was."""
    start = stream.tell()
    digest = hashlib.sha256()
    while chunk := stream.read(_CHUNK):
        digest.update(chunk)
    stream.seek(start)
    return digest.hexdigest()


def _md5(stream: IO[bytes], start: int, end: int) -> Any:
    # In chunks: a 5 GiB part takes no more memory than a small one.
    stream.seek(start)
    digest, left = hashlib.md5(), end - start
    while left > 0 and (chunk := stream.read(min(left, _CHUNK))):
        digest.update(chunk)
        left -= len(chunk)
    return digest


def md5_of_range(stream: IO[bytes], start: int, end: int) -> str:
    """The MD5 (hex, as S3's ETag of a part) of bytes [start, end) of a seekable stream."""
    return _md5(stream, start, end).hexdigest()


def content_md5(body: bytes | IO[bytes]) -> str:
    """The Content-MD5 header of a request with this body (bytes, or a seekable stream
    from where it is to its end, left where it was): S3 refuses the body with BadDigest
    when what it received differs."""
    if isinstance(body, (bytes, bytearray, memoryview)):
        digest = hashlib.md5(body)
    else:
        start = body.tell()
        body.seek(0, 2)  # s3transfer's chunks answer seek() with None: ask tell()
        digest = _md5(body, start, body.tell())
        body.seek(start)
    return base64.b64encode(digest.digest()).decode()


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
