"""Keys, upload ids and file names in presigned mode, over the action API: a key of another
dataset or outside the dataset's prefix gets a 409, another dataset's upload a 403, an
unknown upload id a 404, and every file name a safe key within S3's 1,024 bytes, or a 409.
"""
from __future__ import annotations

from typing import Any

import ckan.tests.factories as factories
import pytest

from .uploads import (
    UPLOAD_ACTIONS,
    assert_safe_key,
    call_expecting,
    complete,
    messages,
    object_exists,
    open_uploads,
    put_parts,
    sign,
    start,
)

pytestmark = [pytest.mark.usefixtures("store"),
              pytest.mark.ckan_config("ckanext.s3multipart.mode", "presigned")]


# Keys and upload ids that are not this dataset's -----------------------------------------

@pytest.fixture
def foreign_upload(api, env, ckan_config, monkeypatch) -> dict[str, Any]:
    """An upload in progress in another organization's dataset."""
    monkeypatch.setitem(ckan_config, "ckanext.s3multipart.enabled_orgs", "enabled-org other-org")
    org = factories.Organization(name="other-org")
    dataset = factories.Dataset(owner_org=org["id"], name="other-data")
    upload = api.call("s3multipart_upload_start", env.sysadmin, id=dataset["id"],
                      filename="secret.csv", size=10)
    assert upload["key"].startswith(f"{org['id']}/{dataset['id']}/")
    return {**upload, "dataset_id": dataset["id"]}


def test_key_of_another_dataset_is_refused(api, env, s3, foreign_upload):
    for action, extra in UPLOAD_ACTIONS.items():
        error = call_expecting(api, env.publisher, 409, action, id=env.dataset["name"],
                               key=foreign_upload["key"],
                               upload_id=foreign_upload["upload_id"], **extra)
        assert env.prefix in messages(error["key"]), action
    assert open_uploads(s3, foreign_upload["key"]) == [foreign_upload["upload_id"]]


def test_another_datasets_upload_through_its_own_id_is_forbidden(api, env, s3, foreign_upload):
    for action, extra in UPLOAD_ACTIONS.items():
        call_expecting(api, env.publisher, 403, action, id=foreign_upload["dataset_id"],
                       key=foreign_upload["key"], upload_id=foreign_upload["upload_id"],
                       **extra)
    assert open_uploads(s3, foreign_upload["key"]) == [foreign_upload["upload_id"]]


@pytest.mark.parametrize("key_of", [
    lambda env: env.prefix + "../other-dataset/x.csv",
    lambda env: env.prefix + "a/./x.csv",
    lambda env: env.prefix + "a//x.csv",
    lambda env: env.prefix,
    lambda env: env.prefix + "folder/",
    lambda env: env.org["id"] + "/x.csv",
    lambda env: "/" + env.prefix + "x.csv",
], ids=["dotdot", "dot", "empty segment", "prefix only", "folder", "org level", "leading /"])
def test_key_outside_the_dataset_prefix_is_refused(api, env, key_of):
    upload = start(api, env)
    for action, extra in UPLOAD_ACTIONS.items():
        error = call_expecting(api, env.publisher, 409, action, id=env.dataset["name"],
                               key=key_of(env), upload_id=upload["upload_id"], **extra)
        assert "is not inside dataset" in messages(error["key"]), action


@pytest.mark.parametrize("upload_id_of", [
    lambda other: "no-such-upload",
    lambda other: other["upload_id"],  # a real upload, but of another key of this dataset
], ids=["made up", "other key's"])
def test_unknown_upload_id_is_not_found(api, env, s3, upload_id_of):
    upload, other = start(api, env), start(api, env)
    upload_id = upload_id_of(other)
    for action, extra in UPLOAD_ACTIONS.items():
        error = call_expecting(api, env.publisher, 404, action, id=env.dataset["name"],
                               key=upload["key"], upload_id=upload_id, **extra)
        assert upload_id in error["message"] and upload["key"] in error["message"], action
    assert sorted(open_uploads(s3, env.prefix)) == sorted([upload["upload_id"], other["upload_id"]])


# File names ------------------------------------------------------------------------------

@pytest.mark.parametrize("filename", ["", "....", ". . .", "\x00\x01", "\u200b"])
def test_start_refuses_a_file_name_with_nothing_usable(api, env, s3, filename):
    error = api.call("s3multipart_upload_start", env.publisher, status=409,
                     id=env.dataset["name"], filename=filename, size=1)
    assert messages(error["filename"])
    assert open_uploads(s3, env.prefix) == []


@pytest.mark.parametrize("filename", [
    "../../../etc/passwd",
    "..\\..\\windows\\system32.dll",
    "a/b/c.csv",
    "/absolute.csv",
    "..",
    "../",
    ".hidden.csv",
    "nul\x00byte.csv",
    "tab\tnew\nline\rbell\x07esc\x1b.csv",
    "del\x7f.csv",
    "right\u202eto-left.csv",
    "line\u2028sep.csv",
    " spaced .csv ",
])
def test_awkward_file_names_give_a_safe_key_or_409(api, env, filename):
    response = api.app.post("/api/3/action/s3multipart_upload_start",
                            json={"id": env.dataset["name"], "filename": filename, "size": 1},
                            headers={"Authorization": env.publisher["token"]})
    # Only ".." has nothing left once made safe; every other name becomes a usable key.
    assert response.status_code == (409 if filename == ".." else 200), response.text
    if response.status_code == 409:
        assert messages(response.json["error"]["filename"])
        return
    upload = response.json["result"]
    assert_safe_key(upload["key"], env.prefix)
    # The server accepts the key it issued for the rest of the flow.
    sign(api, env, upload, {1: b""})


@pytest.mark.parametrize("stem, extension", [("a", ".csv"), ("ü", ".tar.gz"), ("東", ".parquet")])
def test_a_2000_character_name_is_shortened_keeping_its_extension(api, env, s3, stem, extension):
    upload = start(api, env, filename=stem * 2000 + extension, size=3)
    name = assert_safe_key(upload["key"], env.prefix)
    assert name.endswith(extension) and name.startswith(stem * 10)
    assert "\ufffd" not in name
    complete(api, env, upload, put_parts(api, env, upload, [b"abc"]))
    assert object_exists(s3, upload["key"])


@pytest.mark.parametrize("prefix_length, status", [(800, 200), (912, 409), (950, 409)])
def test_a_long_site_prefix_still_keeps_keys_within_1024_bytes(api, env, ckan_config,
                                                              monkeypatch, prefix_length, status):
    """Start-up refuses an s3_prefix over 512 bytes; one set past that check (as here) still
    gives keys within 1024 bytes, or a start refused naming the setting. 800 bytes leave
    room for a name after the ids; 912 and 950 leave less than 64 bytes."""
    site_prefix = "p" * prefix_length
    monkeypatch.setitem(ckan_config, "ckanext.s3multipart.s3_prefix", site_prefix)
    response = api.app.post("/api/3/action/s3multipart_upload_start",
                            json={"id": env.dataset["name"], "filename": "a" * 2000 + ".csv",
                                  "size": 1},
                            headers={"Authorization": env.publisher["token"]})
    assert response.status_code == status, response.text
    if status == 409:
        assert "s3_prefix" in messages(response.json["error"]["config"])
        return
    key = response.json["result"]["key"]
    assert_safe_key(key, f"{site_prefix}/{env.prefix}")


# Completing ------------------------------------------------------------------------------

