"""CKAN starts with s3multipart in any position of ckan.plugins, beside every plugin CKAN ships.

Some of CKAN's plugins look up validators when they are imported, which fills CKAN's
validator cache before later plugins are loaded; a declaration naming this plugin's own
validators then stopped start-up with UnknownValidator when it came after them.
"""
from __future__ import annotations

import json
from importlib.metadata import entry_points
from typing import Any

import psycopg2
import pytest
import sqlalchemy as sa
from ckan.common import config

from .ckan_process import serve_one_request

DATASTORE_DB = "ckan_s3multipart_plugin_order_datastore"
DATASTORE_READER = "s3multipart_datastore_reader"


def bundled_plugins() -> list[str]:
    """The plugins of CKAN's own distribution, one name per plugin class (no examples)."""
    names: dict[str, str] = {}
    for entry in sorted(entry_points(group="ckan.plugins"), key=lambda e: e.name):
        if entry.dist is None or entry.dist.name != "ckan":
            continue
        if entry.name.startswith(("example", "test", "sample")):
            continue
        names.setdefault(entry.value, entry.name)  # recline_view and its aliases: once
    return sorted(names.values())


PLUGINS = bundled_plugins()


@pytest.fixture(scope="module")
def datastore_options() -> dict[str, str]:
    """The datastore plugin wants its own database and a distinct read-only user."""
    url = sa.engine.make_url(config["sqlalchemy.url"])
    admin = psycopg2.connect(host=url.host, port=url.port or 5432, user=url.username,
                             dbname="postgres")
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute("select 1 from pg_database where datname = %s", [DATASTORE_DB])
        if not cursor.fetchone():
            cursor.execute(f"create database {DATASTORE_DB}")
        cursor.execute("select 1 from pg_roles where rolname = %s", [DATASTORE_READER])
        if not cursor.fetchone():
            cursor.execute(f"create role {DATASTORE_READER} login password 'reader'")
    admin.close()
    base = f"{url.host}:{url.port or 5432}/{DATASTORE_DB}"
    return {"ckan.datastore.write_url": f"postgresql://{url.username}@{base}",
            "ckan.datastore.read_url": f"postgresql://{DATASTORE_READER}:reader@{base}",
            # datapusher refuses to start without these; nothing is pushed in this test.
            "ckan.datapusher.url": "http://127.0.0.1:1/",
            "ckan.datapusher.api_token": "not-used"}


def _started(result: Any) -> dict[str, Any]:
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_every_bundled_plugin_is_tried():
    # The list comes from the installed CKAN; a lookup that found nothing would test nothing.
    assert {"image_view", "datatables_view", "webpage_view", "audio_view", "video_view",
            "text_view", "datastore", "activity"} <= set(PLUGINS)


@pytest.mark.parametrize("position", range(len(PLUGINS) + 1))
def test_starts_in_any_position(tmp_path, datastore_options, position):
    order = [*PLUGINS[:position], "s3multipart", *PLUGINS[position:]]
    result = serve_one_request(tmp_path, {**datastore_options, "ckan.plugins": " ".join(order)})
    answer = _started(result)
    assert set(order) <= set(answer["extensions"])
    assert answer["help"] is True  # the plugin's actions are registered


@pytest.mark.parametrize("before", ["image_view", "datatables_view"])
def test_a_wrong_value_still_stops_start_up_after_other_plugins(tmp_path, before):
    result = serve_one_request(tmp_path, {"ckan.plugins": f"{before} s3multipart",
                                          "ckanext.s3multipart.part_size": "1048576"})
    assert result.returncode != 0
    assert "ckanext.s3multipart.part_size: must be a whole number from 5242880" in result.stderr
    assert "UnknownValidator" not in result.stderr
