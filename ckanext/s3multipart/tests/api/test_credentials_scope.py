"""STS credentials: what s3multipart_credentials hands out and what those keys may do.

moto does not enforce session policies, so the proof has two halves: the policy moto
recorded for the very AssumeRole call CKAN made (read back from moto's state), and an IAM
policy simulator (@cloud-copilot/iam-simulate, via tests/policy/simulate.mjs) that
evaluates that policy the way AWS does.
"""
from __future__ import annotations

import datetime as dt
import json
import pathlib
import subprocess
from typing import Any

import pytest

from ckanext.s3multipart import keys

from ..support import BUCKET

pytestmark = pytest.mark.usefixtures("store")

SIMULATOR = pathlib.Path(__file__).parents[1] / "policy" / "simulate.mjs"
# The role's own (identity) policy may be broad; the session policy must narrow it.
ROLE_POLICY = {"Version": "2012-10-17",
               "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}
UPLOAD_ACTIONS = {"s3:PutObject", "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts"}


def simulate(session_policy: dict[str, Any], requests: list[tuple]) -> list[str]:
    """AWS's decision for each (action, resource[, context]) under the session policy."""
    document = {"identityPolicies": [ROLE_POLICY], "sessionPolicy": session_policy,
                "requests": [{"action": a, "resource": r, "context": c[0] if c else {}}
                             for a, r, *c in requests]}
    result = subprocess.run(["node", str(SIMULATOR)], input=json.dumps(document),
                            capture_output=True, text=True, timeout=60, check=True)
    return [answer["result"] for answer in json.loads(result.stdout)]


def test_answer_has_the_contract_fields(env, api):
    answer = api.call("s3multipart_credentials", env.publisher, id="big-data")
    assert set(answer["credentials"]) == {"AccessKeyId", "SecretAccessKey", "SessionToken",
                                          "Expiration"}
    expires = dt.datetime.fromisoformat(answer["credentials"]["Expiration"])
    lifetime = (expires - dt.datetime.now(dt.timezone.utc)).total_seconds()
    assert 3500 < lifetime <= 3600
    assert answer["bucket"] == BUCKET and answer["region"] == "us-east-1"
    assert answer["endpoint_url"].startswith("http://127.0.0.1:")
    assert answer["part_size"] == 5 * 1024**2 and answer["concurrency"] == 4
    assert answer["max_size"] == 5 * 1024**4
    assert answer["metadata"] == {"ckan-site-id": "s3mp-test",
                                  "ckan-user": env.publisher["name"],
                                  "ckan-package-id": env.dataset["id"]}


@pytest.mark.ckan_config("ckanext.s3multipart.credentials_duration", "900")
def test_duration_comes_from_config(env, api):
    answer = api.call("s3multipart_credentials", env.publisher, id=env.dataset["id"])
    expires = dt.datetime.fromisoformat(answer["credentials"]["Expiration"])
    assert (expires - dt.datetime.now(dt.timezone.utc)).total_seconds() <= 900


def test_each_call_gets_a_fresh_upload_prefix_in_the_dataset(env, api):
    first = api.call("s3multipart_credentials", env.publisher, id="big-data")["prefix"]
    second = api.call("s3multipart_credentials", env.publisher, id="big-data")["prefix"]
    assert first != second
    for prefix in (first, second):
        assert prefix.startswith(env.prefix) and prefix.endswith("/")
        assert prefix.count("/") == env.prefix.count("/") + 1


def test_session_policy_sent_to_sts_is_scoped_to_the_prefix(env, api, sts_recorder):
    answer = api.call("s3multipart_credentials", env.publisher, id="big-data")
    policy = sts_recorder.policy(answer["credentials"]["AccessKeyId"])
    [statement] = policy["Statement"]
    assert statement["Effect"] == "Allow"
    assert set(statement["Action"]) == UPLOAD_ACTIONS
    assert statement["Resource"] == f"arn:aws:s3:::{BUCKET}/{answer['prefix']}*"


def test_aws_evaluation_of_the_session_policy(env, api, sts_recorder):
    answer = api.call("s3multipart_credentials", env.publisher, id="big-data")
    policy = sts_recorder.policy(answer["credentials"]["AccessKeyId"])
    own = f"arn:aws:s3:::{BUCKET}/{answer['prefix']}big.csv"
    fresh_prefix = keys.new_upload_prefix(env.org["id"], env.dataset["id"])
    other_upload = f"arn:aws:s3:::{BUCKET}/{fresh_prefix}x"
    other_dataset = f"arn:aws:s3:::{BUCKET}/{env.org['id']}/another-dataset/abc/x"
    dataset_root = f"arn:aws:s3:::{BUCKET}/{env.prefix}x"
    other_bucket = f"arn:aws:s3:::other-bucket/{answer['prefix']}x"
    bucket = f"arn:aws:s3:::{BUCKET}"
    allowed = [("s3:PutObject", own), ("s3:ListMultipartUploadParts", own),
               ("s3:AbortMultipartUpload", own)]
    denied = [
        ("s3:PutObject", other_upload), ("s3:ListMultipartUploadParts", other_upload),
        ("s3:PutObject", other_dataset), ("s3:PutObject", dataset_root),
        ("s3:PutObject", other_bucket), ("s3:ListMultipartUploadParts", other_bucket),
        ("s3:DeleteObject", own), ("s3:GetObject", own), ("s3:PutObjectAcl", own),
        ("s3:ListBucket", bucket, {"s3:prefix": answer["prefix"]}),
        ("s3:ListBucketMultipartUploads", bucket, {"s3:prefix": answer["prefix"]}),
    ]
    results = simulate(policy, allowed + denied)
    assert results == ["Allowed"] * len(allowed) + ["ImplicitlyDenied"] * len(denied)


def test_refresh_with_the_prefix_keeps_the_same_scope(env, api, sts_recorder):
    first = api.call("s3multipart_credentials", env.publisher, id="big-data")
    second = api.call("s3multipart_credentials", env.publisher, id="big-data",
                      prefix=first["prefix"])
    assert second["prefix"] == first["prefix"]
    assert second["credentials"]["AccessKeyId"] != first["credentials"]["AccessKeyId"]
    policy = sts_recorder.policy(second["credentials"]["AccessKeyId"])
    assert policy["Statement"][0]["Resource"] == f"arn:aws:s3:::{BUCKET}/{first['prefix']}*"
    own = f"arn:aws:s3:::{BUCKET}/{first['prefix']}big.csv"
    fresh = f"arn:aws:s3:::{BUCKET}/{keys.new_upload_prefix(env.org['id'], env.dataset['id'])}x"
    assert simulate(policy, [("s3:PutObject", own), ("s3:PutObject", fresh)]) == [
        "Allowed", "ImplicitlyDenied"]


def test_prefix_of_another_dataset_is_refused(env, api):
    from ckan.tests import factories
    other = factories.Dataset(owner_org=env.org["id"])
    foreign = api.call("s3multipart_credentials", env.publisher, id=other["id"])["prefix"]
    error = api.call("s3multipart_credentials", env.publisher, status=409, id="big-data",
                     prefix=foreign)
    assert "not an upload prefix issued for dataset 'big-data'" in error["prefix"][0]


@pytest.mark.parametrize("make_prefix", [
    lambda env: env.prefix,                                  # the whole dataset
    lambda env: env.prefix + "0123456789abcdef0123456789abcdef/",  # forged segment
    lambda env: env.prefix + "../",
    lambda env: "",
    lambda env: "somewhere/else/",
])
def test_prefix_that_is_not_an_upload_prefix_is_refused(env, api, make_prefix):
    prefix = make_prefix(env)
    if not prefix:  # an empty prefix just asks for a fresh one
        answer = api.call("s3multipart_credentials", env.publisher, id="big-data", prefix="")
        assert answer["prefix"].startswith(env.prefix)
        return
    error = api.call("s3multipart_credentials", env.publisher, status=409, id="big-data",
                     prefix=prefix)
    assert "not an upload prefix" in error["prefix"][0]


def test_prefix_holding_a_finished_object_is_refused(env, api, s3):
    first = api.call("s3multipart_credentials", env.publisher, id="big-data")
    s3.put_object(Bucket=BUCKET, Key=first["prefix"] + "done.csv", Body=b"a,b\n")
    error = api.call("s3multipart_credentials", env.publisher, status=409, id="big-data",
                     prefix=first["prefix"])
    assert "already complete" in error["prefix"][0]


def test_the_keys_really_upload_to_their_prefix(env, api, store, s3):
    """The credentials work as S3 credentials against the endpoint (a multipart upload)."""
    answer = api.call("s3multipart_credentials", env.publisher, id="big-data")
    creds = answer["credentials"]
    client = store.client(endpoint_url=answer["endpoint_url"],
                          aws_access_key_id=creds["AccessKeyId"],
                          aws_secret_access_key=creds["SecretAccessKey"],
                          aws_session_token=creds["SessionToken"])
    key = answer["prefix"] + "hello.txt"
    upload = client.create_multipart_upload(Bucket=BUCKET, Key=key, Metadata=answer["metadata"])
    part = client.upload_part(Bucket=BUCKET, Key=key, UploadId=upload["UploadId"],
                              PartNumber=1, Body=b"hello")
    client.complete_multipart_upload(
        Bucket=BUCKET, Key=key, UploadId=upload["UploadId"],
        MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": part["ETag"]}]})
    obj = s3.get_object(Bucket=BUCKET, Key=key)
    assert obj["Body"].read() == b"hello"
    assert obj["Metadata"]["ckan-package-id"] == env.dataset["id"]


@pytest.mark.ckan_config("ckanext.s3multipart.acl", "bucket-owner-full-control")
def test_acl_option_adds_put_object_acl(env, api, sts_recorder):
    answer = api.call("s3multipart_credentials", env.publisher, id="big-data")
    policy = sts_recorder.policy(answer["credentials"]["AccessKeyId"])
    assert "s3:PutObjectAcl" in policy["Statement"][0]["Action"]
    assert answer["acl"] == "bucket-owner-full-control"


@pytest.mark.ckan_config("ckanext.s3multipart.mode", "presigned")
def test_presigned_mode_refuses_credentials(env, api):
    error = api.call("s3multipart_credentials", env.publisher, status=409, id="big-data")
    assert "presigned mode" in error["mode"][0]


@pytest.mark.ckan_config("ckanext.s3multipart.s3_role", "")
def test_auto_mode_without_role_is_presigned(env, api):
    error = api.call("s3multipart_credentials", env.publisher, status=409, id="big-data")
    assert "s3multipart_upload_start" in error["mode"][0]


@pytest.mark.stores("moto")  # a real STS knows only its own roles
def test_policy_follows_the_role_partition(env, api, sts_recorder, ckan_config, monkeypatch):
    monkeypatch.setitem(ckan_config, "ckanext.s3multipart.s3_role",
                        "arn:aws-us-gov:iam::123456789012:role/Uploader")
    answer = api.call("s3multipart_credentials", env.publisher, id="big-data")
    policy = sts_recorder.policy(answer["credentials"]["AccessKeyId"])
    assert policy["Statement"][0]["Resource"].startswith("arn:aws-us-gov:s3:::")


def test_filename_gives_the_safe_key_inside_the_prefix(env, api):
    answer = api.call("s3multipart_credentials", env.publisher, id="big-data",
                      filename="../Données\x00 2024.csv")
    assert answer["key"] == answer["prefix"] + "_Données 2024.csv"
    again = api.call("s3multipart_credentials", env.publisher, id="big-data",
                     prefix=answer["prefix"], filename="../Données\x00 2024.csv")
    assert again["key"] == answer["key"]
    error = api.call("s3multipart_credentials", env.publisher, status=409, id="big-data",
                     filename="...")
    assert "no usable characters" in error["filename"][0]


@pytest.mark.parametrize("filename, declared, stored", [
    ("survey.csv", None, "text/csv"),
    ("survey.csv", "application/vnd.ms-excel", "application/vnd.ms-excel"),
    ("readings.unknownext", None, "application/octet-stream"),
    ("readings.unknownext", "", "application/octet-stream"),
])
def test_filename_gives_the_content_type_to_create_the_object_with(env, api, filename,
                                                                   declared, stored):
    """The server's media-type rule (media_types.content_type), the same in both modes."""
    answer = api.call("s3multipart_credentials", env.publisher, id="big-data",
                      filename=filename, **({"content_type": declared}
                                            if declared is not None else {}))
    assert answer["content_type"] == stored


def test_a_content_type_that_is_no_media_type_is_refused(env, api):
    error = api.call("s3multipart_credentials", env.publisher, status=409, id="big-data",
                     filename="a.csv", content_type="text/csv\r\nX-Evil: 1")
    assert "is not a media type like text/csv" in error["content_type"][0]


@pytest.mark.stores("moto")  # a real STS knows only its own roles
def test_store_specific_arn_prefixes_keep_aws_s3_arns(env, api, sts_recorder, ckan_config,
                                                     monkeypatch):
    monkeypatch.setitem(ckan_config, "ckanext.s3multipart.s3_role",
                        "arn:minio:iam:::role/ckan-upload")
    answer = api.call("s3multipart_credentials", env.publisher, id="big-data")
    policy = sts_recorder.policy(answer["credentials"]["AccessKeyId"])
    assert policy["Statement"][0]["Resource"].startswith(f"arn:aws:s3:::{BUCKET}/")
