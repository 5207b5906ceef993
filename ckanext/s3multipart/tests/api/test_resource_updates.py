"""Updates that leave out `url_type` and `s3_key`, as scripts, harvesters and other
extensions' forms do, keep the resource's object, as core keeps an uploaded file.

Only an update that really makes the resource a link, or clears its upload, detaches
the object (which then stays in the bucket for `ckan s3multipart orphans`).
"""
from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import ckan.model as model
import pytest
import requests
from ckan.tests.helpers import call_action

from ckanext.s3multipart import keys

from ..support import BUCKET, download, post_file, run

BODY = b"station,value\nA,1\n"

pytestmark = pytest.mark.usefixtures("store", "with_extended_cli")


@pytest.fixture
def site(env, ckan_config, monkeypatch) -> str:
    """This test's own site prefix, so that `orphans` sees only this test's objects."""
    root = f"updates-{uuid.uuid4().hex[:8]}"
    monkeypatch.setitem(ckan_config, "ckanext.s3multipart.s3_prefix", root)
    return root


def from_upload_field(env, app, s3) -> dict[str, Any]:
    return post_file(app, env.publisher, "resource_create", "stations.csv", BODY,
                     package_id="big-data", name="Stations")


def from_large_file_widget(env, app, s3) -> dict[str, Any]:
    key = keys.new_upload_prefix(env.org["id"], env.dataset["id"]) + "stations.csv"
    s3.put_object(Bucket=BUCKET, Key=key, Body=BODY, ContentType="text/csv")
    return call_action("resource_create", {"user": env.publisher["name"]},
                       package_id="big-data", url_type="upload", s3_key=key, name="Stations")


def _without_upload_fields(resource: dict[str, Any], **changes: Any) -> dict[str, Any]:
    return {**{k: v for k, v in resource.items() if k not in ("url_type", "s3_key")},
            **changes}


def by_resource_update(env, app, resource):
    # A script that knows the resource's id, address and its own metadata, nothing else.
    call_action("resource_update", {"user": env.publisher["name"]}, id=resource["id"],
                url=resource["url"], name="Stations", description="edited")


def by_resource_update_without_url(env, app, resource):
    call_action("resource_update", {"user": env.publisher["name"]}, id=resource["id"],
                name="Stations", description="edited")


def by_resource_update_with_null_url_type(env, app, resource):
    # JSON null: core's schema drops it, so the stored url_type stays.
    call_action("resource_update", {"user": env.publisher["name"]}, id=resource["id"],
                url=resource["url"], url_type=None, description="edited")


def by_resource_patch(env, app, resource):
    call_action("resource_patch", {"user": env.publisher["name"]}, id=resource["id"],
                description="edited")


def by_package_update(env, app, resource):
    # A harvester rebuilding the dataset from its own copy of the resources.
    dataset = call_action("package_show", id="big-data")
    dataset["resources"] = [_without_upload_fields(r, description="edited")
                            for r in dataset["resources"]]
    call_action("package_update", {"user": env.publisher["name"]}, **dataset)


def by_package_revise(env, app, resource):
    call_action("package_revise", {"user": env.publisher["name"]}, match={"name": "big-data"},
                update={"resources": [{"id": resource["id"], "url": resource["url"],
                                       "name": "Stations", "description": "edited"}]})


def by_edit_form(env, app, resource):
    # A theme's (or scheming's) resource form without the upload widget's fields.
    app.post(f"/dataset/big-data/resource/{resource['id']}/edit",
             headers={"Authorization": env.publisher["token"]}, follow_redirects=False,
             data={"name": "Stations", "description": "edited", "url": resource["url"],
                   "save": ""}, status=302)


ORIGINS = [from_upload_field, from_large_file_widget]
UPDATES = [by_resource_update, by_resource_update_without_url,
           by_resource_update_with_null_url_type, by_resource_patch, by_package_update,
           by_package_revise, by_edit_form]


@pytest.mark.parametrize("update", UPDATES, ids=lambda f: f.__name__)
@pytest.mark.parametrize("origin", ORIGINS, ids=lambda f: f.__name__)
def test_update_without_url_type_keeps_the_object(
        env, app, s3, cli, site, origin: Callable[..., Any], update: Callable[..., Any]):
    created = origin(env, app, s3)
    update(env, app, created)

    shown = call_action("resource_show", id=created["id"])
    assert shown["description"] == "edited"
    assert shown["s3_key"] == created["s3_key"] and shown["url_type"] == "upload"
    assert shown["size"] == len(BODY) and shown["mimetype"] == "text/csv"
    assert shown["url"].endswith(f"/resource/{created['id']}/download/stations.csv")
    assert model.Resource.get(created["id"]).extras["s3_key"] == created["s3_key"]

    response = download(app, shown)
    assert response.status_code == 302
    assert requests.get(response.headers["Location"], timeout=30).content == BODY
    assert run(cli, "orphans", "--older-than", "0").output.startswith("0 orphans")


@pytest.mark.parametrize("origin", ORIGINS, ids=lambda f: f.__name__)
def test_a_new_address_without_url_type_still_serves_the_file_as_core_does(
        env, app, s3, site, origin: Callable[..., Any]):
    # Core keeps url_type "upload" and serves its stored file under the new name.
    created = origin(env, app, s3)
    call_action("resource_update", {"user": env.publisher["name"]}, id=created["id"],
                url="https://example.org/renamed.csv")
    shown = call_action("resource_show", id=created["id"])
    assert shown["s3_key"] == created["s3_key"] and shown["url_type"] == "upload"
    response = download(app, shown)
    assert response.status_code == 302
    assert requests.get(response.headers["Location"], timeout=30).content == BODY


@pytest.mark.parametrize("made_a_link", [
    {"url_type": "", "url": "https://example.org/elsewhere.csv"},
    {"url_type": "link", "url": "https://example.org/elsewhere.csv"},
    {"clear_upload": "true", "url": ""},
], ids=["url_type empty", "another url_type", "clear_upload"])
@pytest.mark.parametrize("origin", ORIGINS, ids=lambda f: f.__name__)
def test_only_a_real_change_to_a_link_detaches_the_object(
        env, app, s3, cli, site, origin: Callable[..., Any], made_a_link: dict[str, str]):
    created = origin(env, app, s3)
    call_action("resource_update", {"user": env.publisher["name"]}, id=created["id"],
                name="Stations", **made_a_link)
    shown = call_action("resource_show", id=created["id"])
    assert "s3_key" not in shown and shown["url_type"] != "upload"
    assert shown["url"] == made_a_link["url"]
    # Nothing is deleted: the object is now an orphan for the operator to decide on.
    assert s3.get_object(Bucket=BUCKET, Key=created["s3_key"])["Body"].read() == BODY
    output = run(cli, "orphans", "--older-than", "0").output
    assert created["s3_key"] in output and output.splitlines()[-1].startswith("1 orphan, ")
