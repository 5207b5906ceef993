"""Helpers for the tests of `ckan s3multipart ...`: run a command through CKAN's own
`ckan` entry point, and a bucket without CORS or lifecycle rules."""
from __future__ import annotations

from typing import Any

import pytest
from ckan.cli.cli import ckan

from .conftest import BUCKET


def run(cli, *args: str, status: int = 0, input: str | None = None) -> Any:
    """`ckan s3multipart ARGS`, asserting its exit status; no traceback ever."""
    result = cli.invoke(ckan, ["s3multipart", *args], input=input)
    output = result.output
    print(output)
    assert "Traceback" not in output, output
    assert result.exit_code == status, f"exit {result.exit_code}:\n{output}\n{result.exception!r}"
    return result


@pytest.fixture
def bare_bucket(s3):
    """The tests' bucket without CORS and lifecycle rules, before and after the test."""
    def clear():
        s3.delete_bucket_cors(Bucket=BUCKET)
        s3.delete_bucket_lifecycle(Bucket=BUCKET)
    clear()
    yield s3
    clear()
