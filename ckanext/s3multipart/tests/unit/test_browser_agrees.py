"""Rules the browser needs in JavaScript, checked against their Python home: which listed
parts count when an upload resumes (client/transfer.merge_listed, resume.js) and byte
counts for people (sizes.human, progress.js)."""
from __future__ import annotations

import random

from ckanext.s3multipart import parts, sizes
from ckanext.s3multipart.client.transfer import merge_listed

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


def test_the_browser_writes_byte_counts_as_the_server_does():
    counts = [0, 5, 1023, 1024, 1536, 10 * MiB, 5 * 1024**4, 3 * 1024**5]
    assert in_node("progress.js", "return input.map((n) => m.formatBytes(n))", counts) == \
        [sizes.human(n) for n in counts]
