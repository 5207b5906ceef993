"""Fixtures of the operator commands' tests."""
from __future__ import annotations

import pytest

from ..support import BUCKET


@pytest.fixture
def bare_bucket(s3):
    """The tests' bucket without CORS and lifecycle rules, before and after the test."""
    def clear():
        s3.delete_bucket_cors(Bucket=BUCKET)
        s3.delete_bucket_lifecycle(Bucket=BUCKET)
    clear()
    yield s3
    clear()
