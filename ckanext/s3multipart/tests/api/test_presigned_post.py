"""s3multipart_presigned_post: one presigned POST for a single-request upload.

Covered: the answer's fields (url, fields, key, expires_in, max_size, curl_example); a
multipart-form POST of a file with those fields (file last) puts exactly those bytes at
the key with the metadata and content type; the base64 policy carries the size limit
["content-length-range", 0, min(max_size, 5 GiB)] and a condition for every field,
metadata included; the curl_example, pasted into bash in the file's folder, uploads the
file, also for names with spaces, quotes and other shell or curl syntax; bad input and
callers without upload rights get 409/403/404.
"""
from __future__ import annotations

import base64
import datetime as dt
import json
import os
import pathlib
import subprocess
from typing import Any

import pytest
import requests

from ..support import BUCKET

pytestmark = pytest.mark.usefixtures("store")

GiB = 1024**3
CURL = "/usr/bin/curl"


def presigned_post(api, env, filename: str, user=None, status: int = 200) -> dict[str, Any]:
    return api.call("s3multipart_presigned_post", user or env.publisher, status=status,
                    id=env.dataset["name"], filename=filename)


def post_file(answer: dict[str, Any], filename: str, data: bytes) -> requests.Response:
    """POST as a browser form would: every field, then the file last."""
    return requests.post(answer["url"], data=answer["fields"],
                         files={"file": (filename, data)}, timeout=60)


def policy_of(answer: dict[str, Any]) -> dict[str, Any]:
    return json.loads(base64.b64decode(answer["fields"]["policy"]))


def body_of(s3, key: str) -> bytes:
    return s3.get_object(Bucket=BUCKET, Key=key)["Body"].read()


def run_pasted(command: str, folder: pathlib.Path) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", "-c", command], cwd=folder, capture_output=True,
                          text=True, timeout=60)


def test_answer_has_the_contract_fields(api, env):
    answer = presigned_post(api, env, "rainfall 2024.csv")
    assert {"url", "fields", "key", "expires_in", "curl_example"} <= set(answer)
    assert answer["url"].startswith("http://127.0.0.1:") and BUCKET in answer["url"]
    assert answer["key"].startswith(env.prefix)
    assert answer["key"].endswith("/rainfall 2024.csv")
    assert answer["key"].count("/") == env.prefix.count("/") + 1
    assert answer["expires_in"] == 3600
    assert answer["max_size"] == 5 * GiB
    fields = answer["fields"]
    assert fields["key"] == answer["key"]
    assert fields["Content-Type"] == "text/csv"
    assert fields["x-amz-meta-ckan-site-id"] == "s3mp-test"
    assert fields["x-amz-meta-ckan-user"] == env.publisher["name"]
    assert fields["x-amz-meta-ckan-package-id"] == env.dataset["id"]
    assert {"policy", "x-amz-signature", "x-amz-credential", "x-amz-algorithm",
            "x-amz-date"} <= set(fields)
    assert answer["curl_example"].startswith("curl ")
    assert answer["url"] in answer["curl_example"]


def test_each_answer_has_its_own_key(api, env):
    assert presigned_post(api, env, "a.csv")["key"] != presigned_post(api, env, "a.csv")["key"]


def test_posting_the_file_with_the_fields_stores_its_bytes(api, env, s3):
    data = os.urandom(300_000)
    answer = presigned_post(api, env, "grid.nc")
    response = post_file(answer, "grid.nc", data)
    assert response.status_code in (200, 201, 204), response.text

    assert body_of(s3, answer["key"]) == data
    head = s3.head_object(Bucket=BUCKET, Key=answer["key"])
    assert head["ContentLength"] == len(data)
    assert head["Metadata"] == {"ckan-site-id": "s3mp-test",
                                "ckan-user": env.publisher["name"],
                                "ckan-package-id": env.dataset["id"]}


@pytest.mark.parametrize("max_size, limit", [
    (None, 5 * GiB),            # 0 = S3's 5 TiB, but one POST takes at most 5 GiB
    (str(1000), 1000),
    (str(10 * GiB), 5 * GiB),
])
def test_policy_carries_the_size_limit_and_the_metadata(api, env, ckan_config, monkeypatch,
                                                        max_size, limit):
    if max_size is not None:
        monkeypatch.setitem(ckan_config, "ckanext.s3multipart.max_size", max_size)
    answer = presigned_post(api, env, "a.csv")
    policy = policy_of(answer)
    conditions = policy["conditions"]

    assert ["content-length-range", 0, limit] in conditions
    assert answer["max_size"] == limit
    for condition in ({"bucket": BUCKET}, {"key": answer["key"]},
                      {"Content-Type": "text/csv"},
                      {"x-amz-meta-ckan-site-id": "s3mp-test"},
                      {"x-amz-meta-ckan-user": env.publisher["name"]},
                      {"x-amz-meta-ckan-package-id": env.dataset["id"]}):
        assert condition in conditions
    # Every form field but the signature fields is bound by a condition.
    bound = {name for c in conditions if isinstance(c, dict) for name in c}
    assert set(answer["fields"]) - {"policy", "x-amz-signature", "key"} <= bound

    expiration = dt.datetime.fromisoformat(policy["expiration"].replace("Z", "+00:00"))
    lifetime = (expiration - dt.datetime.now(dt.timezone.utc)).total_seconds()
    assert 3500 < lifetime <= 3600


@pytest.mark.parametrize("filename", [
    "plain.csv",
    "my data 'final' v2.csv",
    'say "hi" now.csv',
    "$(touch pwned) `id` $HOME.csv",
    "semi;colon, comma.csv",
    "type=text;x.csv",
    "ünï cødé 東京.csv",
    "-leading-dash.csv",
])
def test_curl_example_works_when_pasted(api, env, s3, tmp_path, filename):
    assert os.access(CURL, os.X_OK), f"{CURL} is needed to check curl_example"
    data = os.urandom(10_000)
    (tmp_path / filename).write_bytes(data)
    answer = presigned_post(api, env, filename)

    result = run_pasted(answer["curl_example"], tmp_path)

    assert result.returncode == 0, f"{answer['curl_example']}\n{result.stderr}"
    assert body_of(s3, answer["key"]) == data
    assert sorted(p.name for p in tmp_path.iterdir()) == [filename]  # nothing ran


@pytest.mark.parametrize("filename, field", [("", "filename"), ("....", "filename"),
                                             (None, "filename")])
def test_a_missing_or_unusable_file_name_is_refused(api, env, filename, field):
    data = {"id": env.dataset["name"]}
    if filename is not None:
        data["filename"] = filename
    error = api.call("s3multipart_presigned_post", env.publisher, status=409, **data)
    assert error[field] and all(isinstance(m, str) and m for m in error[field])


@pytest.mark.parametrize("who", ["anonymous", "outsider"])
def test_only_publishers_of_the_dataset_get_a_presigned_post(api, env, who):
    user = None if who == "anonymous" else env.outsider
    response = api.app.post("/api/3/action/s3multipart_presigned_post",
                            json={"id": env.dataset["name"], "filename": "a.csv"},
                            headers={"Authorization": user["token"]} if user else {})
    assert response.status_code == 403
    message = response.json["error"]["message"]
    assert ("Log in" if user is None else user["name"]) in message


def test_unknown_dataset_is_not_found(api, env):
    error = api.call("s3multipart_presigned_post", env.publisher, status=404,
                     id="no-such-dataset", filename="a.csv")
    assert "no-such-dataset" in error["message"]
