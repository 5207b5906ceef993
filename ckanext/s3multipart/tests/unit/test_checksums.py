"""Checksums of a stream read once: they match what S3 reports for the same bytes."""
from __future__ import annotations

import hashlib
import io
import os

from ckanext.s3multipart.checksums import (
    Digest,
    HashingReader,
    content_md5,
    md5_of_range,
    sha256_of,
)

MiB = 1024**2


def test_digest_matches_s3s_etags():
    digest = Digest(5 * MiB)
    body = os.urandom(11 * MiB)
    for start in range(0, len(body), 3 * MiB):  # reads that straddle part boundaries
        digest.update(body[start:start + 3 * MiB])
    md5s = b"".join(hashlib.md5(body[i:i + 5 * MiB]).digest() for i in range(0, len(body), 5 * MiB))
    assert digest.etags() == {hashlib.md5(body).hexdigest(), hashlib.md5(md5s).hexdigest() + "-3"}
    assert digest.sha256.digest() == hashlib.sha256(body).digest()


def test_a_whole_number_of_parts_has_no_empty_last_part():
    digest = Digest(5 * MiB)
    body = os.urandom(10 * MiB)
    digest.update(body)
    md5s = hashlib.md5(body[:5 * MiB]).digest() + hashlib.md5(body[5 * MiB:]).digest()
    assert hashlib.md5(md5s).hexdigest() + "-2" in digest.etags()


def test_the_reader_hashes_what_it_hands_out_once_in_order():
    body = os.urandom(3 * MiB + 7)
    digest = Digest(5 * MiB)
    reader = HashingReader(io.BytesIO(body), digest)
    assert not reader.seekable() and reader.readable()
    read = b"".join(iter(lambda: reader.read(MiB), b""))
    assert read == body and digest.size == len(body)
    assert digest.sha256.hexdigest() == hashlib.sha256(body).hexdigest()


def test_content_md5_is_the_base64_md5_s3_checks():
    assert content_md5(b"") == "1B2M2Y8AsgTpgAmY7PhCfg=="  # MD5("") in base64
    assert content_md5(b"abc") == "kAFQmDzST7DWlj99KOF/cg=="


def test_md5_of_a_range_is_the_etag_s3_gives_that_part():
    data = os.urandom(3 * MiB + 5)
    stream = io.BytesIO(data)
    assert md5_of_range(stream, MiB, 3 * MiB + 5) == hashlib.md5(data[MiB:]).hexdigest()
    assert md5_of_range(stream, 0, 0) == hashlib.md5(b"").hexdigest()


def test_sha256_of_a_stream_leaves_it_where_it_was():
    stream = io.BytesIO(b"header,rows\n1,2\n")
    stream.seek(7)
    assert sha256_of(stream) == hashlib.sha256(b"rows\n1,2\n").hexdigest()
    assert stream.tell() == 7


def test_content_md5_of_a_stream_reads_from_where_it_is_and_leaves_it_there():
    from s3transfer.utils import ReadFileChunk

    data = os.urandom(2 * MiB)
    source = io.BytesIO(data)
    source.seek(MiB)
    chunk = ReadFileChunk(source, MiB, len(data))  # part 2, as s3transfer sends it
    assert content_md5(chunk) == content_md5(data[MiB:])
    assert chunk.tell() == 0
    stream = io.BytesIO(data)
    stream.seek(10)
    assert content_md5(stream) == content_md5(data[10:]) and stream.tell() == 10
