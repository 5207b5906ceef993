"""`ckan s3multipart migrate`: files in CKAN's local storage move into S3, verified."""
from __future__ import annotations

import hashlib
import os

import ckan.lib.uploader as core_uploader
import pytest
from ckan.tests import factories
from ckan.tests.helpers import call_action

from ckanext.s3multipart import keys, storage

from ..support import BUCKET, run

pytestmark = pytest.mark.usefixtures("store", "with_extended_cli")

MiB = 1024**2


@pytest.fixture
def local_storage(env, ckan_config, monkeypatch, tmp_path):
    # The command loads its configuration anew, where CKAN_STORAGE_PATH (set by bin/test)
    # wins over the file: both must name the folder.
    monkeypatch.setitem(ckan_config, "ckan.storage_path", str(tmp_path))
    monkeypatch.setenv("CKAN_STORAGE_PATH", str(tmp_path))
    return tmp_path


def local_resource(dataset: dict, name: str, body: bytes | None, **fields) -> dict:
    """A resource uploaded before S3: its file where CKAN's own storage keeps it."""
    resource = factories.Resource(package_id=dataset["id"], url=name, url_type="upload",
                                  **fields)
    path = core_uploader.ResourceUpload({}).get_path(resource["id"])
    if body is not None:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(body)
    return resource


def show(resource: dict) -> dict:
    return call_action("resource_show", id=resource["id"])


def stored(s3, key: str) -> bytes:
    return s3.get_object(Bucket=BUCKET, Key=key)["Body"].read()


@pytest.fixture
def legacy(env, local_storage):
    """Two local files of the enabled organization, one of a dataset of another one."""
    small = b"id,value\n1,2\n"
    big = os.urandom(11 * MiB + 5)
    other_org = factories.Organization(name="local-org")
    other = factories.Dataset(owner_org=other_org["id"], name="stays-local")
    return {
        "small": (local_resource(env.dataset, "survey.csv", small, mimetype="text/csv"), small),
        "big": (local_resource(env.dataset, "big.bin", big), big),
        "other": (local_resource(other, "other.csv", b"x,y\n"), b"x,y\n"),
    }


def test_migrate_moves_verifies_and_a_rerun_skips(env, legacy, cli, s3):
    output = run(cli, "migrate").output
    for name in ("small", "big"):
        resource, body = legacy[name]
        after = show(resource)
        key = after["s3_key"]
        assert keys.in_dataset(key, env.org["id"], env.dataset["id"])
        assert stored(s3, key) == body
        assert after["url_type"] == "upload" and after["size"] == len(body)
        assert after["hash"] == hashlib.sha256(body).hexdigest()
        assert after["hash_algorithm"] == "sha256"
        assert after["url"].endswith("/download/" + key.rsplit("/", 1)[-1])
        head = s3.head_object(Bucket=BUCKET, Key=key)
        assert head["Metadata"]["ckan-resource-id"] == resource["id"]
        assert f"moved    big-data/{after['url'].rsplit('/', 1)[-1]}" in output
        # the local file is kept
        assert os.path.exists(core_uploader.ResourceUpload({}).get_path(resource["id"]))
    assert show(legacy["small"][0])["mimetype"] == "text/csv"
    # an 11 MiB file goes up in three 5 MiB parts; its multipart ETag was checked
    assert s3.head_object(Bucket=BUCKET, Key=show(legacy["big"][0])["s3_key"])["ETag"] \
        .endswith('-3"')
    assert output.count("verified by size and MD5 (ETag)") == 2
    assert output.splitlines()[-1] == "2 files moved, 0 already in S3, 0 failed"
    assert "s3_key" not in show(legacy["other"][0])

    objects = s3.list_objects_v2(Bucket=BUCKET, Prefix=env.prefix)["KeyCount"]
    output = run(cli, "migrate").output
    assert output.splitlines()[-1] == "0 files moved, 2 already in S3, 0 failed"
    assert s3.list_objects_v2(Bucket=BUCKET, Prefix=env.prefix)["KeyCount"] == objects


def test_downloads_then_come_from_s3(env, legacy, cli, app):
    run(cli, "migrate", "--dataset", "big-data")
    resource = show(legacy["small"][0])
    answer = app.get(resource["url"].replace("http://127.0.0.1:5000", ""),
                     headers={"Authorization": env.publisher["token"]},
                     follow_redirects=False)
    assert answer.status_code == 302 and BUCKET in answer.headers["Location"]


def test_dry_run_changes_nothing(env, legacy, cli, s3):
    output = run(cli, "migrate", "--dry-run").output
    lines = output.splitlines()
    assert lines[0].startswith("would move  big-data/survey.csv (13 B, resource ")
    assert lines[1].startswith("would move  big-data/big.bin (11.0 MiB, resource ")
    assert lines[-1] == "2 files (11.0 MiB) to move, 0 already in S3, 0 cannot move"
    assert "s3_key" not in show(legacy["small"][0])
    assert s3.list_objects_v2(Bucket=BUCKET, Prefix=env.prefix)["KeyCount"] == 0


def test_one_dataset_only(env, legacy, cli):
    second = factories.Dataset(owner_org=env.org["id"], name="second-data")
    resource = local_resource(second, "second.txt", b"2nd")
    output = run(cli, "migrate", "--dataset", "second-data").output
    assert output.splitlines()[-1] == "1 file moved, 0 already in S3, 0 failed"
    assert show(resource)["s3_key"] and "s3_key" not in show(legacy["small"][0])


def test_a_dataset_of_an_organization_not_enabled_is_refused(env, legacy, cli):
    result = run(cli, "migrate", "--dataset", "stays-local", status=1)
    assert result.output.strip() == (
        "Error: dataset 'stays-local' is not in an organization enabled for S3; add its "
        "organization to ckanext.s3multipart.enabled_orgs first")


def test_a_missing_local_file_is_reported_and_the_rest_moves(env, legacy, cli):
    lost = local_resource(env.dataset, "lost.csv", None)
    result = run(cli, "migrate", status=1)
    assert f"missing  big-data/lost.csv (resource {lost['id']}): no file at " in result.output
    assert "2 files moved, 0 already in S3, 1 failed" in result.output
    assert "Error: 1 file not moved; see the lines above" in result.output
    assert "s3_key" not in show(lost) and show(legacy["small"][0])["s3_key"]


def test_without_a_usable_etag_the_object_is_read_back(env, legacy, cli, monkeypatch):
    real_head = storage.head
    monkeypatch.setattr(storage, "head",
                        lambda key: {**real_head(key), "ETag": '"kms-encrypted-etag"'})
    output = run(cli, "migrate").output
    assert output.count("verified by size and SHA-256 (read back)") == 2


def test_a_corrupt_copy_is_deleted_and_the_resource_left_alone(env, legacy, cli, monkeypatch,
                                                              s3):
    real_head = storage.head
    monkeypatch.setattr(storage, "head", lambda key: {**real_head(key), "ETag": '"other"'})
    monkeypatch.setattr(storage, "read_chunks", lambda key: iter([b"not the same bytes"]))
    result = run(cli, "migrate", status=1)
    assert "differs from the local file (SHA-256)" in result.output
    assert "0 files moved, 0 already in S3, 2 failed" in result.output
    assert "s3_key" not in show(legacy["small"][0])
    assert s3.list_objects_v2(Bucket=BUCKET, Prefix=env.prefix)["KeyCount"] == 0


def test_without_local_storage_there_is_nothing_to_move(env, cli, ckan_config, monkeypatch):
    monkeypatch.delenv("CKAN_STORAGE_PATH", raising=False)  # the command would apply it
    monkeypatch.setitem(ckan_config, "ckan.storage_path", "")
    result = run(cli, "migrate", status=1)
    assert "Error: ckan.storage_path is not set; there are no local files to migrate" \
        in result.output
