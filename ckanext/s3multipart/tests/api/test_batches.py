"""Batches (many files or a folder) over the action API, against each store over HTTP.

Covered: s3multipart_batch_keys gives one prefix per batch with each file's relative
path below it (names made safe, per-file errors for what cannot be stored while the rest
are planned); a batch prefix is its user's only (credentials, upload_start and further
keys refuse it to anyone else) and takes renewed credentials while it holds finished
files; presigned upload_start places a file in its batch and never over one already
there; s3multipart_resources_create makes many resources in one dataset save, each
checked and sized from the store, reports the ones it cannot make, and makes nothing
twice when sent again. What the store enforces of a batch's credentials:
test_credentials_enforced.py.
"""
from __future__ import annotations

import hashlib
import os

import ckan.tests.factories as factories
import pytest
from ckan.tests import helpers

from ckanext.s3multipart import keys

from ..support import BUCKET
from .uploads import HEX, MiB, call_expecting, complete, messages, open_uploads, put_parts

pytestmark = pytest.mark.usefixtures("store")


def batch(api, env, files, user=None, **extra):
    return api.call("s3multipart_batch_keys", user or env.publisher, id=env.dataset["name"],
                    files=files, **extra)


def batch_segment(prefix: str, env) -> str:
    assert prefix.startswith(env.prefix) and prefix.endswith("/"), prefix
    segment = prefix[len(env.prefix):-1]
    assert len(segment) == 32 and set(segment) <= HEX, prefix
    return segment


def put_object(s3, key: str, data: bytes) -> None:
    """Store an object as an uploader would, with the media type batch_keys gave."""
    s3.put_object(Bucket=BUCKET, Key=key, Body=data, ContentType="text/csv")


def editor(env) -> dict:
    """A second editor of the publisher's organization."""
    user = factories.UserWithToken()
    helpers.call_action("organization_member_create", {"user": env.sysadmin["name"]},
                        id=env.org["id"], username=user["name"], role="editor")
    return user


# Keys ------------------------------------------------------------------------------------

def test_a_batch_keeps_its_relative_paths_below_one_fresh_prefix(api, env):
    answer = batch(api, env, [
        {"name": "survey/2024/01/day.csv", "size": 12 * MiB},
        {"name": "survey\\readme.txt", "size": 0},
        {"name": "survey/./raw//.cache/x.nc", "size": 1},
        {"name": "../up/file.bin", "size": 5},
    ])
    prefix = answer["prefix"]
    batch_segment(prefix, env)
    assert [(f["name"], f["key"][len(prefix):]) for f in answer["files"]] == [
        ("survey/2024/01/day.csv", "survey/2024/01/day.csv"),
        ("survey/readme.txt", "survey/readme.txt"),
        ("survey/raw/.cache/x.nc", "survey/raw/cache/x.nc"),
        ("../up/file.bin", "up/file.bin"),
    ]
    assert all(keys.in_dataset(f["key"], env.org["id"], env.dataset["id"])
               for f in answer["files"])
    first = answer["files"][0]
    assert (first["part_size"], first["part_count"], first["content_type"]) == (
        5 * MiB, 3, "text/csv")
    assert answer["files"][1]["part_count"] == 1  # an empty file is one empty part
    assert answer["files_concurrency"] == 2 and answer["concurrency"] == 4
    # A new batch, a new prefix; the same prefix again places further files in it.
    assert batch(api, env, [{"name": "a.csv", "size": 1}])["prefix"] != prefix
    more = batch(api, env, [{"name": "survey/2024/02/day.csv", "size": 1}], prefix=prefix)
    assert more["prefix"] == prefix
    assert more["files"][0]["key"] == prefix + "survey/2024/02/day.csv"


@pytest.mark.ckan_config("ckanext.s3multipart.max_size", "1000")
def test_files_that_cannot_be_stored_are_named_while_the_rest_are_planned(api, env):
    answer = batch(api, env, [
        {"name": "data/ok.csv", "size": 1000},
        {"name": "data/big.csv", "size": 1001},
        {"name": "data/...", "size": 1},
        {"name": "data/b.csv", "size": 1},
        {"name": "data\\b.csv", "size": 2},
        {"name": "x/" * 470 + "deep.csv", "size": 1},
        {"name": "data/odd.csv", "size": 1, "content_type": "not a type"},
    ])
    files = answer["files"]
    assert [("key" in f, f["name"]) for f in files] == [
        (True, "data/ok.csv"), (False, "data/big.csv"), (False, "data/..."),
        (True, "data/b.csv"), (False, "data/b.csv"), (False, "x/" * 470 + "deep.csv"),
        (False, "data/odd.csv")]
    assert "1,001 bytes" in files[1]["error"] and "1,000 bytes" in files[1]["error"]
    assert "no usable characters" in files[2]["error"]
    assert "same key as 'data/b.csv'" in files[4]["error"]
    assert "folders" in files[5]["error"] and "1024-byte" in files[5]["error"]
    assert "media type" in files[6]["error"]


@pytest.mark.parametrize(("files", "expected"), [
    ([], "Give the files as"),
    ([{"name": f"f{n}", "size": 1} for n in range(1001)], "at most 1000 files"),
    ("survey/a.csv", "list of objects"),
    ([{"name": "a.csv"}], "Missing value"),
    ([{"name": "a.csv", "size": -1}], "0 or more bytes"),
    ([{"name": "a\x00.csv", "size": 1}], "control characters"),
])
def test_malformed_batch_requests_get_409(api, env, files, expected):
    error = api.call("s3multipart_batch_keys", env.publisher, status=409,
                     id=env.dataset["name"], files=files)
    assert expected in messages(error)


def test_only_users_who_may_upload_get_batch_keys_or_create_resources(api, env):
    for action, extra in [("s3multipart_batch_keys", {"files": [{"name": "a", "size": 1}]}),
                          ("s3multipart_resources_create",
                           {"resources": [{"s3_key": env.prefix + "x/a"}]})]:
        error = call_expecting(api, env.outsider, 403, action, id="big-data", **extra)
        assert "may not upload" in error["message"]
        error = call_expecting(api, None, 403, action, id="big-data", **extra)
        assert "Log in" in error["message"]
        call_expecting(api, env.publisher, 404, action, id="no-such-dataset", **extra)


def test_a_batch_prefix_serves_only_the_user_it_was_issued_to(api, env):
    prefix = batch(api, env, [{"name": "a.csv", "size": 1}])["prefix"]
    other = editor(env)
    for action, extra in [
        ("s3multipart_batch_keys", {"files": [{"name": "b.csv", "size": 1}]}),
        ("s3multipart_credentials", {}),
    ]:
        error = call_expecting(api, other, 409, action, id="big-data", prefix=prefix, **extra)
        assert prefix in messages(error), error
    # Nor is a batch prefix taken for another dataset's.
    second = factories.Dataset(owner_org=env.org["id"], name="other-data")
    error = call_expecting(api, env.publisher, 409, "s3multipart_batch_keys",
                           id=second["name"], prefix=prefix,
                           files=[{"name": "b.csv", "size": 1}])
    assert "not a batch prefix issued to you" in messages(error)


# STS mode --------------------------------------------------------------------------------

def test_a_batch_renews_its_credentials_beside_its_finished_files(api, env, s3):
    planned = batch(api, env, [{"name": "d/one.csv", "size": 3}, {"name": "d/two.csv",
                                                                  "size": 3}])
    prefix = planned["prefix"]
    first = api.call("s3multipart_credentials", env.publisher, id="big-data", prefix=prefix,
                     filename="d/one.csv")
    assert first["prefix"] == prefix and first["key"] == planned["files"][0]["key"]
    put_object(s3, first["key"], b"one")
    # The first file is finished; the batch goes on with the same prefix.
    again = api.call("s3multipart_credentials", env.publisher, id="big-data", prefix=prefix,
                     filename="d/two.csv")
    assert again["key"] == planned["files"][1]["key"]
    assert again["credentials"]["AccessKeyId"]
    # A single upload's prefix still closes with its file.
    single = api.call("s3multipart_credentials", env.publisher, id="big-data",
                      filename="solo.csv")
    put_object(s3, single["key"], b"solo")
    error = call_expecting(api, env.publisher, 409, "s3multipart_credentials",
                           id="big-data", prefix=single["prefix"])
    assert "already complete" in messages(error)


# Presigned mode --------------------------------------------------------------------------

@pytest.mark.ckan_config("ckanext.s3multipart.mode", "presigned")
def test_presigned_files_start_at_their_place_in_the_batch_and_never_over_one(api, env):
    prefix = batch(api, env, [{"name": "d/x.csv", "size": 6 * MiB}])["prefix"]
    data = os.urandom(6 * MiB)
    upload = api.call("s3multipart_upload_start", env.publisher, id="big-data",
                      filename="d/x.csv", size=len(data), prefix=prefix)
    assert upload["key"] == prefix + "d/x.csv" and upload["part_count"] == 2
    parts = put_parts(api, env, upload, [data[:5 * MiB], data[5 * MiB:]])
    assert complete(api, env, upload, parts)["size"] == len(data)
    error = call_expecting(api, env.publisher, 409, "s3multipart_upload_start",
                           id="big-data", filename="d/x.csv", size=1, prefix=prefix)
    assert "uploaded in this batch already" in messages(error)
    error = call_expecting(api, editor(env), 409, "s3multipart_upload_start",
                           id="big-data", filename="d/y.csv", size=1, prefix=prefix)
    assert "not a batch prefix issued to you" in messages(error)


@pytest.mark.ckan_config("ckanext.s3multipart.mode", "presigned")
def test_of_two_uploads_of_one_batch_file_the_second_to_complete_is_aborted(api, env, s3):
    prefix = batch(api, env, [{"name": "d/x.csv", "size": 3}])["prefix"]
    first, second = (api.call("s3multipart_upload_start", env.publisher, id="big-data",
                              filename="d/x.csv", size=3, prefix=prefix) for _ in range(2))
    assert first["key"] == second["key"]
    first_parts = put_parts(api, env, first, [b"one"])
    second_parts = put_parts(api, env, second, [b"two"])
    complete(api, env, first, first_parts)
    error = complete(api, env, second, second_parts, status=409)
    assert "uploaded already; this second upload of it was aborted" in messages(error)
    assert s3.get_object(Bucket=BUCKET, Key=first["key"])["Body"].read() == b"one"
    assert open_uploads(s3, prefix) == []


# Resources -------------------------------------------------------------------------------

def test_resources_of_a_batch_are_made_in_one_call_checked_and_sized_from_the_store(
        api, env, s3):
    files = [{"name": f"survey/{month:02}/day.csv", "size": month} for month in (1, 2, 3)]
    planned = batch(api, env, files)
    contents = {}
    for month, file in enumerate(planned["files"], 1):
        contents[file["key"]] = b"x" * month * 10  # the store's size, not the one planned
        put_object(s3, file["key"], contents[file["key"]])
    sha = {k: hashlib.sha256(v).hexdigest() for k, v in contents.items()}
    outside = f"{env.org['id']}/another-dataset/{'0' * 32}/a.csv"
    missing = planned["prefix"] + "survey/04/day.csv"
    other = factories.Dataset(owner_org=env.org["id"], name="other-data")
    elsewhere = factories.Resource(package_id=other["id"], url="http://example.com/x")
    # An id (of a resource elsewhere) and another dataset's package_id are not taken.
    request = [{"s3_key": f["key"], "name": f["name"], "hash": sha[f["key"]],
                "description": "daily", "id": elsewhere["id"], "package_id": other["id"]}
               for f in planned["files"]]
    request += [{"s3_key": outside, "name": "outside"}, {"s3_key": missing, "name": "late"},
                {"s3_key": planned["files"][0]["key"], "name": "twice"}]
    made = api.call("s3multipart_resources_create", env.publisher, id="big-data",
                    resources=request)["resources"]
    assert [r.get("state") for r in made] == ["created"] * 3 + [None, None, None]
    assert "not inside this dataset's prefix" in made[3]["error"]
    assert "finish the upload first" in made[4]["error"]
    assert "listed twice in this request" in made[5]["error"]

    dataset = api.call("package_show", env.publisher, id="big-data")
    resources = {r["id"]: r for r in dataset["resources"]}
    assert len(resources) == 3 and elsewhere["id"] not in resources
    assert helpers.call_action("package_show", id="other-data")["resources"][0]["url"] == (
        "http://example.com/x")
    for outcome, file in zip(made[:3], planned["files"], strict=False):
        resource = resources[outcome["id"]]
        assert resource["name"] == file["name"] == outcome["name"]
        assert resource["size"] == len(contents[file["key"]])
        assert resource["hash"] == sha[file["key"]]
        assert (resource["format"], resource["mimetype"]) == ("CSV", "text/csv")
        assert resource["url"].endswith(f"/resource/{resource['id']}/download/day.csv")
        assert resource["description"] == "daily"

    # Sent again (its answer was lost): nothing new, the same resources named.
    again = api.call("s3multipart_resources_create", env.publisher, id="big-data",
                     resources=request[:3])["resources"]
    assert [(r["state"], r["id"]) for r in again] == [("present", r["id"]) for r in made[:3]]
    assert len(api.call("package_show", env.publisher, id="big-data")["resources"]) == 3


def test_a_malformed_hash_is_that_resources_error_and_ckans_own_refusal_the_calls(
        api, env, s3):
    planned = batch(api, env, [{"name": "a.csv", "size": 1}, {"name": "b.csv", "size": 1}])
    a, b = (f["key"] for f in planned["files"])
    put_object(s3, a, b"a")
    put_object(s3, b, b"b")
    made = api.call("s3multipart_resources_create", env.publisher, id="big-data", resources=[
        {"s3_key": a, "name": "a.csv", "hash": "not-a-sha256"},
        {"s3_key": b, "name": "b.csv"}])["resources"]
    assert "64 hexadecimal digits" in made[0]["error"] and made[1]["state"] == "created"
    # What CKAN's resource schema refuses fails the whole save, with that resource's error.
    error = api.call("s3multipart_resources_create", env.publisher, status=409,
                     id="big-data", resources=[{"s3_key": a, "name": "a.csv",
                                                "last_modified": "not a date"}])
    assert error["resources"] == [{"last_modified": [error["resources"][0]["last_modified"][0]]}]
    assert "Date format incorrect" in messages(error)
    assert [r["name"] for r in api.call("package_show", env.publisher,
                                        id="big-data")["resources"]] == ["b.csv"]


@pytest.mark.parametrize(("resources", "expected"), [
    ([], "Give the resources as"),
    ([{"s3_key": f"k{n}"} for n in range(101)], "at most 100 resources"),
    ([{"name": "no key"}], "Missing value"),
    ({"s3_key": "x"}, "list of objects"),
])
def test_malformed_resource_batches_get_409(api, env, resources, expected):
    error = api.call("s3multipart_resources_create", env.publisher, status=409,
                     id="big-data", resources=resources)
    assert expected in messages(error)


def test_odd_types_in_a_resource_are_no_500(api, env, s3):
    planned = batch(api, env, [{"name": "a.csv", "size": 1}, {"name": "b.csv", "size": 1}])
    a, b = (f["key"] for f in planned["files"])
    put_object(s3, a, b"a")
    put_object(s3, b, b"b")
    made = api.call("s3multipart_resources_create", env.publisher, id="big-data", resources=[
        {"s3_key": a, "hash": "0" * 64, "hash_algorithm": 5},
        {"s3_key": b, "id": ["x"], "name": ["b.csv"]}])["resources"]
    assert [m["state"] for m in made] == ["created", "created"]
    shown = {r["s3_key"]: r for r in api.call("package_show", env.publisher,
                                              id="big-data")["resources"]}
    assert shown[a]["hash_algorithm"] == "5" and shown[b]["id"] != "x"
