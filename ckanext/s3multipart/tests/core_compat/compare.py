"""Compare the plain and with-s3multipart runs of CKAN's own tests (bin/core-tests).

    python -m ckanext.s3multipart.tests.core_compat.compare PLAIN.json WITH.json [ALLOWLIST]

A regression is a test that passed without the extension and failed (or errored) with it.
Tests that did not pass without the extension say nothing about it and are not counted.
Exit status 1 when a regression is not on the allow-list; allow-list entries that match
no regression any more are reported as stale, so the list stays short.
"""
from __future__ import annotations

import argparse
import fnmatch
import json
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ALLOWLIST = Path(__file__).with_name("allowlist.txt")
FAILED = ("failed", "error")
SHOWN_LINES = 6


@dataclass
class Entry:
    """One allow-list line: a node id (fnmatch pattern) and why it may differ."""

    pattern: str
    reason: str
    line: int

    def matches(self, node_id: str) -> bool:
        return fnmatch.fnmatchcase(node_id, self.pattern)


def read_allowlist(path: Path) -> list[Entry]:
    """`<node id or pattern>  # <reason>` per line; blank lines and `#` lines are comments.

    A reason is required: an entry nobody can explain should not silence a failure."""
    entries = []
    for number, raw in enumerate(path.read_text().splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        pattern, _, reason = line.partition(" # ")
        if not reason.strip():
            raise SystemExit(f"{path}:{number}: an entry needs a reason after ' # ': {line}")
        entries.append(Entry(pattern.strip(), reason.strip(), number))
    return entries


def load(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text())


def summary(run: dict[str, Any]) -> str:
    counts = Counter(test["outcome"] for test in run["tests"].values())
    parts = ", ".join(f"{counts[name]} {name}" for name in sorted(counts))
    return f"{len(run['tests'])} tests: {parts}"


def excerpt(test: dict[str, Any]) -> str:
    """The failure's first lines: the crash message, else the end of the report."""
    text = test.get("message") or test.get("text") or "(no report)"
    lines = text.strip().splitlines()
    shown = lines[:SHOWN_LINES] + (["..."] if len(lines) > SHOWN_LINES else [])
    return "\n".join("      " + line for line in shown)


def compare(plain: dict[str, Any], with_: dict[str, Any],
            allowlist: list[Entry]) -> tuple[list[str], list[str], list[Entry], list[Entry]]:
    """(unexpected regressions, allowed regressions, stale entries, entries for tests
    this CKAN version does not have)."""
    regressions = sorted(
        node for node, test in plain["tests"].items()
        if test["outcome"] == "passed"
        and with_["tests"].get(node, {"outcome": "missing"})["outcome"] in FAILED)
    allowed = [node for node in regressions if any(e.matches(node) for e in allowlist)]
    unexpected = [node for node in regressions if node not in allowed]
    known = set(plain["tests"]) | set(with_["tests"])
    stale, absent = [], []
    for entry in allowlist:
        if any(entry.matches(node) for node in regressions):
            continue
        (stale if any(entry.matches(node) for node in known) else absent).append(entry)
    return unexpected, allowed, stale, absent


def report(plain: dict[str, Any], with_: dict[str, Any], allowlist: list[Entry],
           allowlist_path: Path) -> int:
    unexpected, allowed, stale, absent = compare(plain, with_, allowlist)
    print(f"CKAN {plain['ckan']} without s3multipart: {summary(plain)}")
    print(f"CKAN {with_['ckan']} with s3multipart:    {summary(with_)}")
    missing = sorted(set(plain["tests"]) ^ set(with_["tests"]))
    if missing:
        print(f"\n{len(missing)} tests ran in one run only (collection differs):")
        for node in missing:
            print(f"  {node}")
    if allowed:
        print(f"\n{len(allowed)} allowed differences ({allowlist_path}):")
        for node in allowed:
            reason = next(e.reason for e in allowlist if e.matches(node))
            print(f"  {node}\n      allowed: {reason}")
    if stale:
        print(f"\n{len(stale)} stale allow-list entries (no longer a regression: remove them):")
        for entry in stale:
            print(f"  {allowlist_path}:{entry.line}: {entry.pattern}")
    if absent:
        print(f"\n{len(absent)} allow-list entries match no test of CKAN {plain['ckan']}:")
        for entry in absent:
            print(f"  {allowlist_path}:{entry.line}: {entry.pattern}")
    if unexpected:
        print(f"\n{len(unexpected)} REGRESSIONS (pass without s3multipart, fail with it):")
        for node in unexpected:
            test = with_["tests"][node]
            print(f"  {node}  [{test['outcome']} in {test.get('when', 'call')}]")
            print(excerpt(test))
        return 1
    print("\nNo regressions.")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("plain", type=Path, help="results of the run without s3multipart")
    parser.add_argument("with_", metavar="with", type=Path,
                        help="results of the run with s3multipart")
    parser.add_argument("allowlist", type=Path, nargs="?", default=ALLOWLIST)
    args = parser.parse_args(argv)
    return report(load(args.plain), load(args.with_), read_allowlist(args.allowlist),
                  args.allowlist)


if __name__ == "__main__":
    sys.exit(main())
