"""Resources pointing at S3 objects through `s3_key`: checked and described by the store."""
from __future__ import annotations

import ckan.tests.factories as factories
import pytest
from ckan.tests.helpers import call_action

from ckanext.s3multipart import keys

from ..support import BUCKET

pytestmark = pytest.mark.usefixtures("store")


def put_object(s3, env, name="survey.csv", body=b"a,b\n1,2\n", content_type="text/csv",
               prefix=None) -> str:
    key = (prefix or keys.new_upload_prefix(env.org["id"], env.dataset["id"])) + name
    s3.put_object(Bucket=BUCKET, Key=key, Body=body, ContentType=content_type)
    return key


def test_create_takes_size_mimetype_and_format_from_the_store(env, api, s3):
    key = put_object(s3, env, "Survey 2024.csv")
    resource = api.call("resource_create", env.publisher, package_id="big-data",
                        url_type="upload", s3_key=key, size=999_999, mimetype="image/png")
    assert resource["s3_key"] == key
    assert resource["size"] == 8 and resource["mimetype"] == "text/csv"
    assert resource["format"] == "CSV"
    assert resource["url_type"] == "upload"
    # CKAN munges the last segment of an upload's url; the object keeps the real name.
    assert resource["url"].endswith(f"/resource/{resource['id']}/download/survey-2024.csv")
    assert resource["name"] == "Survey 2024.csv"


def test_a_given_name_and_format_are_kept(env, api, s3):
    key = put_object(s3, env, "data.bin", content_type="application/octet-stream")
    resource = api.call("resource_create", env.publisher, package_id="big-data",
                        url_type="upload", s3_key=key, name="Raw data", format="NetCDF")
    assert resource["name"] == "Raw data" and resource["format"] == "NetCDF"


def test_key_written_through_the_legacy_route_counts(env, api, s3):
    key = put_object(s3, env, "legacy.txt", prefix=env.prefix)
    resource = api.call("resource_create", env.publisher, package_id="big-data",
                        url_type="upload", s3_key=key)
    assert resource["s3_key"] == key


def test_key_of_another_dataset_is_refused(env, api, s3):
    other = factories.Dataset(owner_org=env.org["id"])
    key = keys.new_upload_prefix(env.org["id"], other["id"]) + "theirs.csv"
    s3.put_object(Bucket=BUCKET, Key=key, Body=b"x")
    error = api.call("resource_create", env.publisher, status=409, package_id="big-data",
                     url_type="upload", s3_key=key)
    message = error["s3_key"][0]  # resource_create reports the new resource's errors
    assert "is not inside this dataset's prefix" in message and env.prefix in message


@pytest.mark.parametrize("make_key", [
    lambda env: env.prefix + "../escape.csv",
    lambda env: env.prefix,
    lambda env: "elsewhere/file.csv",
])
def test_keys_outside_the_dataset_are_refused(env, api, make_key):
    error = api.call("resource_create", env.publisher, status=409, package_id="big-data",
                     url_type="upload", s3_key=make_key(env))
    assert "not inside this dataset's prefix" in error["s3_key"][0]


def test_missing_object_is_refused(env, api):
    key = keys.new_upload_prefix(env.org["id"], env.dataset["id"]) + "never-uploaded.csv"
    error = api.call("resource_create", env.publisher, status=409, package_id="big-data",
                     url_type="upload", s3_key=key)
    assert "finish the upload first" in error["s3_key"][0]


@pytest.mark.ckan_config("ckanext.s3multipart.max_size", "4")
def test_object_over_max_size_is_refused(env, api, s3):
    key = put_object(s3, env, body=b"12345")
    error = api.call("resource_create", env.publisher, status=409, package_id="big-data",
                     url_type="upload", s3_key=key)
    assert error["s3_key"][0] == ("The object is 5 bytes; the largest file this site accepts "
                                  "is 4 bytes")


def test_s3_key_needs_url_type_upload(env, api, s3):
    key = put_object(s3, env)
    error = api.call("resource_create", env.publisher, status=409, package_id="big-data",
                     url="https://example.org/x.csv", url_type="link", s3_key=key)
    assert "url_type 'upload'" in error["s3_key"][0]


def test_outsider_cannot_attach_or_probe_objects(env, api, s3):
    key = put_object(s3, env)
    error = api.call("resource_create", env.outsider, status=403, package_id="big-data",
                     url_type="upload", s3_key=key)
    assert "s3_key" not in str(error)


def test_update_to_a_new_key_rechecks_and_unchanged_key_keeps_store_values(env, api, s3):
    first = put_object(s3, env, "v1.csv", body=b"1")
    resource = api.call("resource_create", env.publisher, package_id="big-data",
                        url_type="upload", s3_key=first)
    # An unchanged key is not re-read: a client cannot change its size, even if the
    # object has meanwhile gone (objects are never deleted by CKAN, but stores can be).
    s3.delete_object(Bucket=BUCKET, Key=first)
    patched = api.call("resource_patch", env.publisher, id=resource["id"],
                       description="same file", size=12345)
    assert patched["size"] == 1 and patched["s3_key"] == first

    second = put_object(s3, env, "v2.json", body=b'{"a": 1}', content_type="application/json")
    updated = api.call("resource_patch", env.publisher, id=resource["id"], s3_key=second)
    assert updated["size"] == 8 and updated["mimetype"] == "application/json"
    assert updated["url"].endswith("/v2.json")


def test_package_update_and_create_check_every_resource(env, api, s3):
    good = put_object(s3, env, "good.csv")
    dataset = api.call("package_update", env.publisher, id=env.dataset["id"], name="big-data",
                       owner_org=env.org["id"],
                       resources=[{"url_type": "upload", "s3_key": good, "size": 1}])
    assert dataset["resources"][0]["size"] == 8

    error = api.call("package_create", env.publisher, status=409, name="new-one",
                     owner_org=env.org["id"],
                     resources=[{"url_type": "upload", "s3_key": good}])
    assert "not inside this dataset's prefix" in error["resources"][0]["s3_key"][0]


def test_resources_without_s3_key_are_untouched(env, api):
    resource = api.call("resource_create", env.publisher, package_id="big-data",
                        url="https://example.org/data.csv", size=42)
    assert resource["size"] == 42 and "s3_key" not in resource
    assert resource["url"] == "https://example.org/data.csv"


def test_deleting_a_resource_keeps_the_object(env, api, s3):
    key = put_object(s3, env)
    resource = api.call("resource_create", env.publisher, package_id="big-data",
                        url_type="upload", s3_key=key)
    call_action("resource_delete", id=resource["id"])
    call_action("package_delete", id=env.dataset["id"])
    assert s3.head_object(Bucket=BUCKET, Key=key)["ContentLength"] == 8
