"""The original extension's GET routes, kept for existing scripts.

Covered: /api/3/action/get_s3_auth/<dataset> answers AssumeRole's shape (Credentials with
Expiration as a string, AssumedRoleUser) plus the dataset's Prefix, for the dataset's name
and id; the session policy CKAN sent to STS allows only the three upload actions on the
dataset prefix; the answer is plain JSON, never JSONP, and never cached; anonymous users,
outsiders, unknown datasets, organizations not enabled and presigned mode get 403/404/409
with a message. /api/3/action/get_s3_post/<dataset> gives a presigned POST whose key ends
in S3's ${filename}, whose policy lets S3 put the file under one upload folder of the
dataset, and a curl example.
"""
from __future__ import annotations

import base64
import datetime as dt
import json
import os
from typing import Any

import pytest
import requests

from ..support import BUCKET

pytestmark = pytest.mark.usefixtures("store")

UPLOAD_ACTIONS = ["s3:PutObject", "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts"]
HEX = set("0123456789abcdef")


def get(app, route: str, dataset: str, user: dict[str, Any] | None, status: int = 200,
        query: str = ""):
    headers = {"Authorization": user["token"]} if user else {}
    return app.get(f"/api/3/action/{route}/{dataset}{query}", headers=headers, status=status)


def error_text(response) -> str:
    return json.dumps(response.json["error"])


@pytest.mark.parametrize("dataset_of", [lambda env: env.dataset["name"],
                                        lambda env: env.dataset["id"]], ids=["name", "id"])
def test_get_s3_auth_answers_assume_roles_shape(app, env, store, dataset_of):
    response = get(app, "get_s3_auth", dataset_of(env), env.publisher)
    body = response.json

    assert set(body) == {"Credentials", "AssumedRoleUser", "Prefix"}
    credentials = body["Credentials"]
    assert set(credentials) == {"AccessKeyId", "SecretAccessKey", "SessionToken", "Expiration"}
    assert all(isinstance(v, str) and v for v in credentials.values())
    expires = dt.datetime.fromisoformat(credentials["Expiration"])
    assert 3500 < (expires - dt.datetime.now(dt.timezone.utc)).total_seconds() <= 3600
    # As STS answered: Ceph RGW's AssumedRoleUser has its Arn only.
    expected = {"Arn"} if store.name == "rgw" else {"AssumedRoleId", "Arn"}
    assert set(body["AssumedRoleUser"]) == expected
    assert body["AssumedRoleUser"]["Arn"].startswith("arn:aws:sts::")
    assert body["Prefix"] == env.prefix


def test_get_s3_auth_credentials_may_only_upload_under_the_dataset_prefix(app, env,
                                                                          sts_recorder):
    body = get(app, "get_s3_auth", env.dataset["name"], env.publisher).json
    policy = sts_recorder.policy(body["Credentials"]["AccessKeyId"])

    (statement,) = policy["Statement"]
    assert statement["Effect"] == "Allow"
    assert statement["Resource"] == f"arn:aws:s3:::{BUCKET}/{env.prefix}*"
    assert sorted(statement["Action"]) == sorted(UPLOAD_ACTIONS)
    assert "Condition" not in statement and "NotAction" not in statement


def test_get_s3_auth_is_plain_json_even_with_a_callback(app, env):
    response = get(app, "get_s3_auth", env.dataset["name"], env.publisher,
                   query="?callback=stealKeys")
    assert response.content_type == "application/json"
    assert not response.get_data(as_text=True).lstrip().startswith("stealKeys")
    assert json.loads(response.get_data(as_text=True))["Prefix"] == env.prefix


def cache_directives(response) -> set[str]:
    return {d.strip().split("=")[0].lower() for d in response.headers["Cache-Control"].split(",")}


@pytest.mark.parametrize("route", ["get_s3_auth", "get_s3_post"])
def test_answers_are_never_cached(app, env, route):
    for response in (get(app, route, env.dataset["name"], env.publisher),
                     get(app, route, env.dataset["name"], None, status=403)):
        directives = cache_directives(response)
        assert "no-store" in directives
        # CKAN adds "public, max-age=0, must-revalidate" unless told the page is not
        # cacheable; a credentials answer must not be marked public.
        assert "public" not in directives, response.headers["Cache-Control"]


@pytest.mark.parametrize("route", ["get_s3_auth", "get_s3_post"])
@pytest.mark.parametrize("who, text", [("anonymous", "Log in"), ("outsider", "may not upload")])
def test_only_publishers_get_an_answer(app, env, route, who, text):
    user = None if who == "anonymous" else env.outsider
    response = get(app, route, env.dataset["name"], user, status=403)
    assert response.content_type == "application/json"
    # The extension's own message, not CKAN's generic one naming an internal function.
    assert text in error_text(response), error_text(response)
    assert "Credentials" not in response.json and "fields" not in response.json


@pytest.mark.parametrize("route", ["get_s3_auth", "get_s3_post"])
def test_unknown_dataset_is_not_found(app, env, route):
    response = get(app, route, "no-such-dataset", env.publisher, status=404)
    assert "no-such-dataset" in error_text(response)


@pytest.mark.ckan_config("ckanext.s3multipart.enabled_orgs", "some-other-org")
@pytest.mark.parametrize("route", ["get_s3_auth", "get_s3_post"])
def test_organization_not_enabled_is_forbidden(app, env, route):
    response = get(app, route, env.dataset["name"], env.sysadmin, status=403)
    assert "enabled-org" in error_text(response)
    assert "enabled_orgs" in error_text(response)


@pytest.mark.ckan_config("ckanext.s3multipart.mode", "presigned")
def test_get_s3_auth_in_presigned_mode_says_to_use_presigned_uploads(app, env):
    response = get(app, "get_s3_auth", env.dataset["name"], env.publisher, status=409)
    assert "presigned" in error_text(response)
    assert "Credentials" not in response.json


@pytest.mark.parametrize("mode", ["sts", "presigned"])
def test_get_s3_post_answers_a_presigned_post_for_any_file_name(app, env, ckan_config,
                                                                monkeypatch, mode):
    monkeypatch.setitem(ckan_config, "ckanext.s3multipart.mode", mode)
    body = get(app, "get_s3_post", env.dataset["name"], env.publisher).json

    assert {"url", "fields", "curl_example"} <= set(body)
    key = body["fields"]["key"]
    assert key.startswith(env.prefix) and key.endswith("/${filename}")
    folder = key[len(env.prefix):-len("/${filename}")]
    assert len(folder) == 32 and set(folder) <= HEX
    assert body["url"] in body["curl_example"]

    # S3 puts the file at the key with ${filename} replaced by the posted file's name; the
    # policy allows exactly that: any name, but only in this upload folder.
    policy = json.loads(base64.b64decode(body["fields"]["policy"]))
    assert ["starts-with", "$key", key[:-len("${filename}")]] in policy["conditions"]
    assert {"key": key} not in policy["conditions"]


def test_posting_a_file_with_get_s3_posts_fields_stores_it(app, env, s3):
    body = get(app, "get_s3_post", env.dataset["name"], env.publisher).json
    folder = body["fields"]["key"][:-len("${filename}")]
    data = os.urandom(50_000)

    response = requests.post(body["url"], data=body["fields"],
                             files={"file": ("station 7.csv", data)}, timeout=60)
    assert response.status_code in (200, 201, 204), response.text

    # moto stores the key as sent ("${filename}" unreplaced); S3 would name it after the file.
    stored = [o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET, Prefix=folder)["Contents"]]
    assert len(stored) == 1
    assert stored[0].replace("${filename}", "station 7.csv") == folder + "station 7.csv"
    assert s3.get_object(Bucket=BUCKET, Key=stored[0])["Body"].read() == data
