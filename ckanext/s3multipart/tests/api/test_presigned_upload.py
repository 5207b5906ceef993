"""The presigned multipart flow over the action API, against moto's server over real HTTP.

Covered: upload_start -> upload_sign -> PUT of each part to its presigned URL ->
upload_list_parts -> upload_complete gives an object with the same bytes, object metadata
and content type; part planning (configured 5 MiB, grown for files that would need more
than 10,000 parts); abort leaves no multipart upload behind; bad input (sizes, part
numbers, keys of another dataset or outside the dataset prefix, unknown upload ids, unsafe
or awkward file names, part lists S3 refuses, objects over max_size) and callers without
upload rights get CKAN's 403/404/409 with a message a person can act on, never a 500.
"""
from __future__ import annotations

import hashlib
import os
import unicodedata
from typing import Any

import ckan.tests.factories as factories
import pytest
import requests

from ..support import BUCKET

pytestmark = [pytest.mark.usefixtures("store"),
              pytest.mark.ckan_config("ckanext.s3multipart.mode", "presigned")]

MiB = 1024**2
GiB = 1024**3
HEX = set("0123456789abcdef")

# The actions that act on an upload already started, with the extra input each needs.
UPLOAD_ACTIONS = {
    "s3multipart_upload_sign": {"part_numbers": [1]},
    "s3multipart_upload_list_parts": {},
    "s3multipart_upload_complete": {"parts": [{"part_number": 1, "etag": '"abc"'}]},
    "s3multipart_upload_abort": {},
}


# Helpers ---------------------------------------------------------------------------------

def start(api, env, filename: str = "measurements.csv", size: int = 1024,
          **extra: Any) -> dict[str, Any]:
    return api.call("s3multipart_upload_start", env.publisher, id=env.dataset["name"],
                    filename=filename, size=size, **extra)


def ref(env, upload: dict[str, Any]) -> dict[str, str]:
    """The input naming one upload of the test dataset."""
    return {"id": env.dataset["name"], "key": upload["key"], "upload_id": upload["upload_id"]}


def put_parts(api, env, upload: dict[str, Any], chunks: list[bytes]) -> list[dict[str, Any]]:
    """Sign parts 1..n, PUT each chunk to its URL over HTTP; [{part_number, etag}]."""
    numbers = list(range(1, len(chunks) + 1))
    urls = api.call("s3multipart_upload_sign", env.publisher, part_numbers=numbers,
                    **ref(env, upload))["urls"]
    assert sorted(urls, key=int) == [str(n) for n in numbers]
    parts = []
    for number, chunk in zip(numbers, chunks, strict=True):
        response = requests.put(urls[str(number)], data=chunk, timeout=60)
        assert response.status_code == 200, response.text
        parts.append({"part_number": number, "etag": response.headers["ETag"]})
    return parts


def complete(api, env, upload, parts, status: int = 200) -> dict[str, Any]:
    return api.call("s3multipart_upload_complete", env.publisher, status=status, parts=parts,
                    **ref(env, upload))


def call_expecting(api, user, status: int, action: str, **data: Any) -> dict[str, Any]:
    """Call an action and check its status, naming the action if it is wrong."""
    headers = {"Authorization": user["token"]} if user else {}
    response = api.app.post(f"/api/3/action/{action}", json=data, headers=headers)
    assert response.status_code == status, f"{action}: {response.status_code} {response.text}"
    return response.json["error"]


def open_uploads(s3, prefix: str) -> list[str]:
    """Ids of the multipart uploads in progress under a prefix."""
    answer = s3.list_multipart_uploads(Bucket=BUCKET, Prefix=prefix)
    return [u["UploadId"] for u in answer.get("Uploads", [])]


def object_exists(s3, key: str) -> bool:
    answer = s3.list_objects_v2(Bucket=BUCKET, Prefix=key)
    return any(o["Key"] == key for o in answer.get("Contents", []))


def messages(error: Any) -> str:
    """All messages of a CKAN error answer (nested per-field errors too), as one string."""
    if isinstance(error, dict):
        return " ".join(messages(v) for k, v in error.items() if k != "__type")
    if isinstance(error, list):
        return " ".join(messages(v) for v in error)
    return str(error)


def assert_safe_key(key: str, prefix: str) -> str:
    """The key is <prefix><upload folder>/<file name> with a harmless name; returns the name."""
    assert key.startswith(prefix), key
    folder, name = key[len(prefix):].split("/")  # exactly one more "/"
    assert len(folder) == 32 and set(folder) <= HEX, key
    assert name and not name.startswith("."), key
    assert "\\" not in name, key
    assert not any(unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp") for ch in name), key
    assert len(key.encode()) <= 1024, f"key is {len(key.encode())} bytes"
    return name


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
                           part_numbers=[1], **ref(env, upload))
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


@pytest.mark.parametrize("numbers", [[0], [10_001], [1, 10_001], [-1], ["x"], [1.5], [], "1"])
def test_sign_refuses_bad_part_numbers(api, env, numbers):
    upload = start(api, env)
    error = api.call("s3multipart_upload_sign", env.publisher, status=409,
                     part_numbers=numbers, **ref(env, upload))
    assert "part number" in messages(error["part_numbers"]).lower()


def test_sign_accepts_the_first_and_last_part_numbers(api, env):
    upload = start(api, env)
    urls = api.call("s3multipart_upload_sign", env.publisher, part_numbers=[1, 10_000],
                    **ref(env, upload))["urls"]
    assert sorted(urls) == ["1", "10000"]
    assert "partNumber=10000" in urls["10000"]
    assert f"uploadId={upload['upload_id']}" in urls["1"]


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
    api.call("s3multipart_upload_sign", env.publisher, part_numbers=[1], **ref(env, upload))


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
