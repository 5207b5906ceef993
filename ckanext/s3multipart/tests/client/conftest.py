"""Fixtures of the client's tests."""
from __future__ import annotations

import pathlib

import pytest


@pytest.fixture(autouse=True)
def plugin_tables(env, migrate_db_for):
    """Downloads are counted in the plugin's table (made by its migration, after clean_db)."""
    migrate_db_for("s3multipart")


@pytest.fixture
def cache(tmp_path) -> pathlib.Path:
    """The client's cache (resume state) for this test only."""
    return tmp_path / "cache"
