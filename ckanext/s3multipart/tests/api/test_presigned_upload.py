"""The presigned multipart flow over the action API, against each store over real HTTP.

Covered: upload_start -> upload_sign -> PUT of each part to its presigned URL ->
upload_list_parts -> upload_complete gives an object with the same bytes, object metadata
and content type; part planning (configured 5 MiB, grown for files that would need more
than 10,000 parts); abort leaves no multipart upload behind; bad sizes, content types and
part lists S3 refuses, objects over max_size and callers without upload rights get CKAN's
403/404/409 with a message a person can act on, never a 500. Signing: test_part_signing.py;
keys, upload ids and file names: test_upload_keys.py.
"""
from __future__ import annotations

import hashlib
import os

import pytest

from ..support import BUCKET
from .uploads import (
    UPLOAD_ACTIONS,
    GiB,
    MiB,
    assert_safe_key,
    call_expecting,
    complete,
    messages,
    object_exists,
    open_uploads,
    put_parts,
    ref,
    start,
)

pytestmark = [pytest.mark.usefixtures("store"),
              pytest.mark.ckan_config("ckanext.s3multipart.mode", "presigned")]


# The round trip --------------------------------------------------------------------------

def test_round_trip_of_a_12_mib_file_in_three_parts(api, env, s3):
    data = os.urandom(12 * MiB + 12345)
    upload = start(api, env, size=len(data))
    assert (upload["part_size"], upload["part_count"]) == (5 * MiB, 3)
    assert assert_safe_key(upload["key"], env.prefix) == "measurements.csv"

    size = upload["part_size"]
    chunks = [data[i:i + size] for i in range(0, len(data), size)]
    assert [len(c) for c in chunks] == [5 * MiB, 5 * MiB, 2 * MiB + 12345]
    parts = put_parts(api, env, upload, chunks)

    listed = api.call("s3multipart_upload_list_parts", env.publisher, **ref(env, upload))
    assert listed["parts"] == [{"part_number": p["part_number"], "etag": p["etag"],
                                "size": len(c)} for p, c in zip(parts, chunks, strict=True)]

    done = complete(api, env, upload, parts)
    assert done["key"] == upload["key"]
    assert done["size"] == len(data)
    assert done["etag"].strip('"').endswith("-3")

    obj = s3.get_object(Bucket=BUCKET, Key=upload["key"])
    assert hashlib.sha256(obj["Body"].read()).hexdigest() == hashlib.sha256(data).hexdigest()
    assert obj["ContentType"] == "text/csv"
    assert obj["Metadata"] == {"ckan-site-id": "s3mp-test",
                               "ckan-user": env.publisher["name"],
                               "ckan-package-id": env.dataset["id"]}
    assert open_uploads(s3, env.prefix) == []
    # A completed upload is gone: it can be neither signed nor completed again.
    call_expecting(api, env.publisher, 404, "s3multipart_upload_sign", part_numbers=[1],
                   **ref(env, upload))


def test_content_type_given_by_the_client_is_stored(api, env, s3):
    upload = start(api, env, filename="data.bin", size=3, content_type="application/x-netcdf")
    assert upload["content_type"] == "application/x-netcdf"
    complete(api, env, upload, put_parts(api, env, upload, [b"abc"]))
    head = s3.head_object(Bucket=BUCKET, Key=upload["key"])
    assert head["ContentType"] == "application/x-netcdf"


def test_unicode_file_name_stays_readable_and_uploads(api, env, s3):
    name = "Données météo 東京 – 2024.csv"
    upload = start(api, env, filename=name, size=5)
    assert assert_safe_key(upload["key"], env.prefix) == name
    complete(api, env, upload, put_parts(api, env, upload, [b"12345"]))
    assert s3.get_object(Bucket=BUCKET, Key=upload["key"])["Body"].read() == b"12345"


def test_every_upload_gets_its_own_folder(api, env):
    first, second = start(api, env), start(api, env)
    assert first["key"] != second["key"]
    assert first["key"].rsplit("/", 1)[1] == second["key"].rsplit("/", 1)[1]


# Part planning ---------------------------------------------------------------------------

@pytest.mark.parametrize("size, part_count", [
    (0, 1), (5 * MiB, 1), (5 * MiB + 1, 2), (10_000 * 5 * MiB, 10_000)])
def test_part_plan_with_the_configured_part_size(api, env, size, part_count):
    upload = start(api, env, size=size)
    assert (upload["part_size"], upload["part_count"]) == (5 * MiB, part_count)


def test_part_size_grows_so_no_upload_needs_more_than_10000_parts(api, env, s3):
    size = 60 * GiB
    upload = start(api, env, size=size)
    part_size, part_count = upload["part_size"], upload["part_count"]
    assert part_size > 5 * MiB
    assert part_count <= 10_000
    assert part_size * (part_count - 1) < size <= part_size * part_count
    api.call("s3multipart_upload_abort", env.publisher, **ref(env, upload))
    assert open_uploads(s3, env.prefix) == []


# Abort -----------------------------------------------------------------------------------

def test_abort_leaves_no_multipart_upload_under_the_prefix(api, env, s3):
    upload = start(api, env, size=6 * MiB)
    put_parts(api, env, upload, [os.urandom(5 * MiB)])
    assert open_uploads(s3, env.prefix) == [upload["upload_id"]]

    assert api.call("s3multipart_upload_abort", env.publisher, **ref(env, upload)) is None

    assert open_uploads(s3, env.prefix) == []
    assert not object_exists(s3, upload["key"])
    error = call_expecting(api, env.publisher, 404, "s3multipart_upload_sign",
                           **UPLOAD_ACTIONS["s3multipart_upload_sign"], **ref(env, upload))
    assert upload["upload_id"] in error["message"]


# Bad sizes, content types and part numbers -----------------------------------------------

@pytest.mark.parametrize("size, text", [
    (-1, "0 or more"), ("ten", "length in bytes"), (True, "a whole number"),
    (1.5, "a whole number"), (None, "length in bytes")])
def test_start_refuses_a_bad_size(api, env, s3, size, text):
    error = api.call("s3multipart_upload_start", env.publisher, status=409,
                     id=env.dataset["name"], filename="a.csv", size=size)
    assert text in messages(error["size"])
    assert open_uploads(s3, env.prefix) == []


@pytest.mark.ckan_config("ckanext.s3multipart.max_size", str(10 * MiB))
def test_start_refuses_a_size_over_max_size_naming_the_limit(api, env, s3):
    error = api.call("s3multipart_upload_start", env.publisher, status=409,
                     id=env.dataset["name"], filename="a.csv", size=10 * MiB + 1)
    assert "10,485,760" in messages(error["size"])
    assert open_uploads(s3, env.prefix) == []
    start(api, env, size=10 * MiB)  # exactly the limit is fine


def test_start_refuses_a_bad_content_type(api, env):
    error = api.call("s3multipart_upload_start", env.publisher, status=409,
                     id=env.dataset["name"], filename="a.csv", size=1,
                     content_type="text/html\r\nX-Evil: 1")
    assert "media type" in messages(error["content_type"])


@pytest.mark.ckan_config("ckanext.s3multipart.max_size", str(6 * MiB))
def test_complete_over_max_size_is_refused_and_the_object_deleted(api, env, s3):
    upload = start(api, env, size=1024)  # declared small, then 7 MiB is sent
    parts = put_parts(api, env, upload, [os.urandom(5 * MiB), os.urandom(2 * MiB)])

    error = complete(api, env, upload, parts, status=409)
    text = messages(error["size"])
    assert "7,340,032" in text and "6,291,456" in text and "deleted" in text
    assert not object_exists(s3, upload["key"])
    assert open_uploads(s3, env.prefix) == []


BAD_PART_LISTS = {
    "duplicated": lambda p: [p[0], p[0], p[1]],
    "same number, other etag": lambda p: [p[0], {**p[1], "part_number": 1}],
    "wrong etag": lambda p: [p[0], {**p[1], "etag": '"00000000000000000000000000000000"'}],
    "part never uploaded": lambda p: [*p, {"part_number": 3, "etag": p[1]["etag"]}],
    "missing etag": lambda p: [{"part_number": 1}, p[1]],
    "empty etag": lambda p: [{"part_number": 1, "etag": ""}, p[1]],
    "missing part number": lambda p: [{"etag": p[0]["etag"]}, p[1]],
    "part number 0": lambda p: [{**p[0], "part_number": 0}, p[1]],
    "part number 10001": lambda p: [p[0], {**p[1], "part_number": 10_001}],
    "etags only": lambda p: [p[0]["etag"], p[1]["etag"]],
    "empty list": lambda p: [],
    "one object, no list": lambda p: p[0],
}


@pytest.mark.parametrize("bad", BAD_PART_LISTS.values(), ids=BAD_PART_LISTS.keys())
def test_complete_refuses_a_bad_part_list_and_the_upload_survives(api, env, s3, bad):
    chunks = [os.urandom(5 * MiB), b"x" * 10]
    upload = start(api, env, size=sum(map(len, chunks)))
    good = put_parts(api, env, upload, chunks)

    error = complete(api, env, upload, bad(good), status=409)
    assert messages(error.get("parts")), error
    assert not object_exists(s3, upload["key"])

    # Nothing was lost: the right list still completes the upload.
    assert complete(api, env, upload, good)["size"] == sum(map(len, chunks))


def test_complete_refuses_a_small_part_before_the_last_saying_why(api, env, s3):
    chunks = [b"x" * 10, os.urandom(5 * MiB)]
    upload = start(api, env, size=sum(map(len, chunks)))
    parts = put_parts(api, env, upload, chunks)

    error = complete(api, env, upload, parts, status=409)
    assert "EntityTooSmall" in messages(error["parts"])
    assert "5 MiB" in messages(error["parts"])
    assert not object_exists(s3, upload["key"])


def test_complete_accepts_the_parts_in_any_order(api, env, s3):
    data = os.urandom(5 * MiB + 100)
    upload = start(api, env, size=len(data))
    parts = put_parts(api, env, upload, [data[:5 * MiB], data[5 * MiB:]])
    complete(api, env, upload, parts[::-1])
    assert s3.get_object(Bucket=BUCKET, Key=upload["key"])["Body"].read() == data


# Who may call ----------------------------------------------------------------------------

@pytest.mark.parametrize("who", ["anonymous", "outsider"])
def test_only_publishers_of_the_dataset_may_call(api, env, s3, who):
    upload = start(api, env)
    user = None if who == "anonymous" else env.outsider
    calls = {"s3multipart_upload_start": {"id": env.dataset["name"], "filename": "a.csv",
                                          "size": 1},
             **{action: {**ref(env, upload), **extra} for action, extra in UPLOAD_ACTIONS.items()}}
    for action, data in calls.items():
        error = call_expecting(api, user, 403, action, **data)
        assert ("Log in" if user is None else user["name"]) in error["message"], action
    assert open_uploads(s3, env.prefix) == [upload["upload_id"]]


def test_unknown_dataset_is_not_found(api, env):
    error = api.call("s3multipart_upload_start", env.publisher, status=404,
                     id="no-such-dataset", filename="a.csv", size=1)
    assert "no-such-dataset" in error["message"]
