"""Part planning: at least 5 MiB, at most 10,000 parts, up to S3's 5 TiB."""
from __future__ import annotations

import json
import pathlib
import random
import subprocess

import pytest

from ckanext.s3multipart import parts

MiB, GiB, TiB = 1024**2, 1024**3, 1024**4


@pytest.mark.parametrize("size, part_size, count", [
    (0, 5 * MiB, 1),
    (1, 5 * MiB, 1),
    (5 * MiB, 5 * MiB, 1),
    (5 * MiB + 1, 5 * MiB, 2),
    (1 * GiB, 5 * MiB, 205),
    (10_000 * 5 * MiB, 5 * MiB, 10_000),
    (10_000 * 5 * MiB + 1, 10 * MiB, 5001),
    (50 * GiB, 10 * MiB, 5120),
    (1 * TiB, 160 * MiB, 6554),
    (5 * TiB, 640 * MiB, 8192),
])
def test_plan(size, part_size, count):
    assert parts.plan(size) == (part_size, count)


def test_plan_never_exceeds_10000_parts_nor_goes_below_5_mib():
    for size in range(0, 5 * TiB, 97 * GiB + 12345):
        part_size, count = parts.plan(size)
        assert count <= 10_000 and part_size >= 5 * MiB
        assert (count - 1) * part_size < max(size, 1) <= count * part_size or size == 0


@pytest.mark.ckan_config("ckanext.s3multipart.part_size", "8388608")
def test_plan_starts_from_the_configured_part_size():
    assert parts.plan(100 * MiB) == (8 * MiB, 13)


PLAN_JS = pathlib.Path(__file__).resolve().parents[2] / "assets" / "src" / "plan.js"


def test_the_browser_plans_every_size_as_the_server_does():
    """plan.js (the bundle's planning) and parts.py agree on part size, count and the
    last part's range, at the edges of S3's limits and in between."""
    edges = [0, 1, 5 * MiB - 1, 5 * MiB, 5 * MiB + 1, 10_000 * 5 * MiB, 10_000 * 5 * MiB + 1,
             50 * GiB, 1024 * GiB - 1, 1024 * GiB, 5 * TiB - 1, 5 * TiB]
    rng = random.Random(20261202)
    sizes = edges + [rng.randrange(0, 5 * TiB) for _ in range(200)]
    cases = [(size, part) for size in sizes for part in (5 * MiB, 8 * MiB, 100 * MiB)]
    script = (f"const m = await import({json.dumps(PLAN_JS.as_uri())});"
              "const cases = JSON.parse(require('fs').readFileSync(0, 'utf8'));"
              "console.log(JSON.stringify(cases.map(([s, p]) => {"
              " const plan = m.planParts(s, p);"
              " return [plan.partSize, plan.partCount, m.partRange(plan, s, plan.partCount)]"
              "})))")
    out = subprocess.run(["node", "--input-type=module", "-e",
                          "import { createRequire } from 'module';"
                          "const require = createRequire(import.meta.url);" + script],
                         input=json.dumps(cases), capture_output=True, text=True, check=True,
                         timeout=60).stdout
    browser = json.loads(out)
    for (size, part), (js_size, js_count, js_last) in zip(cases, browser, strict=True):
        part_size, count = parts.plan(size, part)
        start, end = parts.part_range(size, part_size, count)
        assert (js_size, js_count, js_last) == \
            (part_size, count, {"start": start, "end": end}), (size, part)
