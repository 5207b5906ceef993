"""Helpers shared by the tests of the regular upload field and of downloads."""
from __future__ import annotations

import io
from typing import Any

import ckan.tests.factories as factories
import pytest


def post_file(app, user: dict[str, Any] | None, action: str, file_name: str, body: bytes,
              status: int = 200, **fields: Any) -> dict[str, Any]:
    """Call resource_create/resource_update as CKAN's form and API clients do: a
    multipart/form-data POST with the file in the `upload` field."""
    headers = {"Authorization": user["token"]} if user else {}
    response = app.post(f"/api/3/action/{action}", headers=headers, status=status,
                        data={**fields, "upload": (io.BytesIO(body), file_name)},
                        content_type="multipart/form-data")
    return response.json["result"] if status == 200 else response.json["error"]


def download(app, resource: dict[str, Any], user: dict[str, Any] | None = None,
             filename: str | None = "", method: str = "GET", dataset: str = "big-data",
             package_type: str = "dataset"):
    """Follow a resource's persistent link once, without following the redirect."""
    url = f"/{package_type}/{dataset}/resource/{resource['id']}/download"
    if filename is not None:
        url += "/" + (filename or resource["url"].rsplit("/", 1)[-1])
    headers = {"Authorization": user["token"]} if user else {}
    return app.test_client().open(url, method=method, headers=headers, follow_redirects=False)


@pytest.fixture
def counts_table(env, migrate_db_for):
    """The plugin's table, created by its migration after clean_db (which may drop it)."""
    migrate_db_for("s3multipart")
    return env


@pytest.fixture
def private_dataset(env) -> dict[str, Any]:
    return factories.Dataset(owner_org=env.org["id"], name="secret-data", private=True)
