"""Signing part URLs in presigned mode (s3multipart_upload_sign), over the action API and
real HTTP: each URL is signed for its part's Content-MD5, so the store (Ceph RGW; moto checks
neither signatures nor digests) takes no other bytes at it; bad part lists and digests get
a 409 that says what to send; `part_numbers` alone still signs URLs for older clients.
"""
from __future__ import annotations

import base64
import hashlib
import urllib.parse

import pytest
import requests

from ..support import BUCKET
from .uploads import (
    EMPTY_MD5,
    complete,
    content_md5,
    messages,
    put_parts,
    ref,
    sign,
    start,
)

pytestmark = [pytest.mark.usefixtures("store"),
              pytest.mark.ckan_config("ckanext.s3multipart.mode", "presigned")]


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


# Content-MD5: each URL takes only its part's bytes -----------------------------------------

def test_a_part_url_is_signed_for_its_content_md5(api, env):
    upload = start(api, env)
    urls = sign(api, env, upload, {1: b"abc", 2: b""})
    for url in urls.values():
        query = urllib.parse.parse_qs(urllib.parse.urlsplit(url).query)
        assert query["X-Amz-SignedHeaders"][0].split(";") == ["content-md5", "host"]


def test_a_part_with_its_content_md5_is_stored(api, env, s3):
    upload = start(api, env, size=3)
    parts = put_parts(api, env, upload, [b"abc"])
    assert parts[0]["etag"] == f'"{hashlib.md5(b"abc").hexdigest()}"'
    complete(api, env, upload, parts)
    assert s3.get_object(Bucket=BUCKET, Key=upload["key"])["Body"].read() == b"abc"


@pytest.mark.stores("rgw")  # moto does not check presigned URLs nor Content-MD5
@pytest.mark.parametrize("headers", [
    {"Content-MD5": content_md5(b"abc")},   # the signed MD5, other bytes: BadDigest
    {"Content-MD5": content_md5(b"abd")},   # their own MD5: not what was signed
    {},                                     # no Content-MD5: not what was signed
])
def test_the_store_refuses_other_bytes_at_a_part_url(api, env, s3, headers):
    upload = start(api, env, size=3)
    url = sign(api, env, upload, {1: b"abc"})["1"]
    response = requests.put(url, data=b"abd", headers=headers, timeout=60)
    assert response.status_code in (400, 403), response.text
    assert s3.list_parts(Bucket=BUCKET, Key=upload["key"],
                         UploadId=upload["upload_id"]).get("Parts", []) == []


@pytest.mark.parametrize("md5", [
    "abc", "1B2M2Y8AsgTpgAmY7PhCf", "1B2M2Y8AsgTpgAmY7PhCfg=", "1B2M2Y8AsgTpgAmY7PhCfg==x",
    "1B2M2Y8AsgTpgAmY7PhC-g==", "1B2M2Y8AsgTpgAmY7PhCfg", hashlib.md5(b"").hexdigest(),
    base64.b64encode(b"x" * 15).decode(), base64.b64encode(hashlib.sha1().digest()).decode(),
    None, 16, ""])
def test_sign_refuses_a_content_md5_that_is_not_one(api, env, md5):
    upload = start(api, env)
    error = api.call("s3multipart_upload_sign", env.publisher, status=409, **ref(env, upload),
                     parts=[{"part_number": 1, "content_md5": md5}])
    assert "base64 of its MD5: 24 characters" in messages(error["parts"])


@pytest.mark.parametrize("data, text", [
    ({}, "Give the parts to sign"),
    ({"parts": []}, "Give the parts to sign"),
    ({"parts": [{"part_number": 1}]}, "base64 of its MD5"),
    ({"parts": [{"part_number": 2, "content_md5": EMPTY_MD5}] * 2}, "Part 2 is listed twice"),
    ({"parts": [{"part_number": n, "content_md5": EMPTY_MD5} for n in range(1, 1002)]},
     "at most 1000 parts"),
    ({"parts": [{"part_number": 1, "content_md5": EMPTY_MD5}], "part_numbers": [1]},
     "not both"),
    ({"parts": "1"}, "as a list of objects"),
])
def test_sign_refuses_a_bad_part_list(api, env, data, text):
    upload = start(api, env)
    error = api.call("s3multipart_upload_sign", env.publisher, status=409, **ref(env, upload),
                     **data)
    assert text in messages(error), error


def test_part_numbers_alone_still_sign_urls_for_older_clients(api, env):
    """Clients from before Content-MD5 was signed send `part_numbers`: their URLs sign no
    Content-MD5 (a client that sends one still has it checked by the store)."""
    upload = start(api, env, size=3)
    url = api.call("s3multipart_upload_sign", env.publisher, part_numbers=[1],
                   **ref(env, upload))["urls"]["1"]
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(url).query)
    assert query["X-Amz-SignedHeaders"] == ["host"]
    assert requests.put(url, data=b"abc", timeout=60).status_code == 200


