"""Rules the browser needs in JavaScript, checked against their Python home: which listed
parts count when an upload resumes (client/transfer.merge_listed and matching_parts,
resume.js), byte counts for people (sizes.human, progress.js), and a folder's file names and
system files (folders.py, folders.js)."""
from __future__ import annotations

import hashlib
import random

from ckanext.s3multipart import folders, parts, sizes
from ckanext.s3multipart.client.transfer import matching_parts, merge_listed

from ..devsupport import in_node

MiB = 1024**2


def listings() -> list[tuple[int, int, list[dict]]]:
    """(size, part size, parts S3 lists): whole parts, parts cut short, unknown numbers."""
    rng = random.Random(20261202)
    cases = []
    for size in (0, 1, 5 * MiB, 12 * MiB + 345, 100 * MiB + 1):
        part_size, count = parts.plan(size, 5 * MiB)
        listed = []
        for number in [*range(0, count + 2), *rng.sample(range(1, count + 1), min(count, 3))]:
            start, end = parts.part_range(size, part_size, max(1, min(number, count)))
            length = (end - start) - rng.choice([0, 0, 1])
            listed.append({"part_number": number, "etag": f'"e{number}"', "size": length})
        cases.append((size, part_size, listed))
    return cases


def test_the_browser_keeps_the_parts_the_client_keeps_on_resume():
    cases = listings()
    browser = in_node("resume.js", "return input.map(([size, partSize, listed]) => {"
                      " const partCount = Math.max(1, Math.ceil(size / partSize));"
                      " const plan = { partSize, partCount };"
                      " return [...m.mergeListedParts(plan, size, listed).done.entries()] })",
                      cases)
    for (size, part_size, listed), done in zip(cases, browser, strict=True):
        assert {int(n): etag for n, etag in done} == merge_listed(listed, size, part_size)
    assert any(done for done in browser) and any(len(done) < 3 for done in browser)


def test_the_browser_trusts_a_stored_part_by_its_etag_as_the_client_does(tmp_path):
    """A part of the right size is kept only if its ETag is the MD5 of the local bytes,
    or is no MD5 at all (SSE-KMS, a store's own form)."""
    data = random.Random(13).randbytes(3 * 1024)
    path = tmp_path / "file.bin"
    path.write_bytes(data)
    md5s = [hashlib.md5(data[i:i + 1024]).hexdigest() for i in range(0, len(data), 1024)]
    other = hashlib.md5(b"other bytes").hexdigest()
    etags = [f'"{md5s[0]}"', md5s[0].upper(), f'"{other}"', other, '"abc"', "",
             f'"{md5s[0]}-2"', f'"{md5s[0][:31]}"', f'"{md5s[0]}0"', "W/x"]
    cases = [(etag, md5s[0]) for etag in etags]
    browser = in_node("resume.js", "return input.map(([etag, md5]) => m.holdsBytes(etag, md5))",
                      cases)
    client = [1 in matching_parts(str(path), len(data), 1024, {1: etag}) for etag, _ in cases]
    assert browser == client
    assert True in client and False in client


def test_the_browser_writes_byte_counts_as_the_server_does():
    counts = [0, 5, 1023, 1024, 1536, 10 * MiB, 5 * 1024**4, 3 * 1024**5]
    assert in_node("progress.js", "return input.map((n) => m.formatBytes(n))", counts) == \
        [sizes.human(n) for n in counts]


NAMES = ["survey\\2024/./01//day.csv ", "Cafe\u0301/x.csv", "a/.DS_Store", "THUMBS.DB",
         "x/desktop.ini", "x/._day.csv", "__MACOSX/a/b.csv", "d/~$report.docx", "a/b.csv",
         "macosx/b.csv", "x/.hidden.csv", "DS_Store", "./", ""]


def test_the_browser_names_a_folders_files_and_skips_system_files_as_the_client_does():
    answer = in_node("folders.js", "return input.map((n) => [m.relativePath(n), "
                     "m.isSystemFile(n)])", NAMES)
    assert answer == [[folders.relative_path(n), folders.is_system_file(n)] for n in NAMES]
