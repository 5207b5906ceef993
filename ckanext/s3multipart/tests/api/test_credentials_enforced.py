"""The store itself enforces what CKAN hands out (Ceph RGW: real SigV4 and session policies).

moto accepts expired and tampered signatures and never enforces a session policy, so
these run on RGW only; test_credentials_scope.py states AWS's semantics of the same policy
with the IAM policy simulator.
"""
from __future__ import annotations

import time
import urllib.parse
from collections.abc import Callable
from typing import Any

import ckan.tests.factories as factories
import pytest
import requests
from botocore.exceptions import ClientError

from ckanext.s3multipart import keys, storage

from ..support import BUCKET, download, post_file

pytestmark = [pytest.mark.usefixtures("store"), pytest.mark.stores("rgw")]


def refused(call: Callable[[], Any]) -> str:
    """The store's error code for a call that must be refused with 403."""
    with pytest.raises(ClientError) as refusal:
        call()
    assert refusal.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    return refusal.value.response["Error"]["Code"]


def client_for(store, credentials: dict[str, str]) -> Any:
    return store.client(aws_access_key_id=credentials["AccessKeyId"],
                        aws_secret_access_key=credentials["SecretAccessKey"],
                        aws_session_token=credentials["SessionToken"])


def assert_may_upload_under(client, s3, prefix: str) -> None:
    """A single PUT and a whole multipart upload (create, part, ListParts, complete), and
    an abort, all under `prefix`."""
    client.put_object(Bucket=BUCKET, Key=prefix + "single.txt", Body=b"one request")
    key = prefix + "parts.bin"
    upload = client.create_multipart_upload(Bucket=BUCKET, Key=key)["UploadId"]
    etag = client.upload_part(Bucket=BUCKET, Key=key, UploadId=upload, PartNumber=1,
                              Body=b"part one")["ETag"]
    listed = client.list_parts(Bucket=BUCKET, Key=key, UploadId=upload)["Parts"]
    assert [p["ETag"] for p in listed] == [etag]
    client.complete_multipart_upload(Bucket=BUCKET, Key=key, UploadId=upload,
                                     MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": etag}]})
    assert s3.get_object(Bucket=BUCKET, Key=key)["Body"].read() == b"part one"
    dropped = client.create_multipart_upload(Bucket=BUCKET, Key=prefix + "dropped.bin")
    client.abort_multipart_upload(Bucket=BUCKET, Key=prefix + "dropped.bin",
                                  UploadId=dropped["UploadId"])


def assert_no_reads_deletes_or_listings(client, key: str) -> None:
    assert refused(lambda: client.get_object(Bucket=BUCKET, Key=key)) == "AccessDenied"
    assert refused(lambda: client.head_object(Bucket=BUCKET, Key=key)) in ("403", "AccessDenied")
    assert refused(lambda: client.delete_object(Bucket=BUCKET, Key=key)) == "AccessDenied"
    assert refused(lambda: client.list_objects_v2(Bucket=BUCKET)) == "AccessDenied"
    assert refused(lambda: client.list_multipart_uploads(Bucket=BUCKET)) == "AccessDenied"


def test_upload_credentials_write_only_their_own_upload_prefix(env, api, store, s3):
    answer = api.call("s3multipart_credentials", env.publisher, id="big-data")
    client = client_for(store, answer["credentials"])
    assert_may_upload_under(client, s3, answer["prefix"])

    other_dataset = factories.Dataset(owner_org=env.org["id"])
    elsewhere = [
        keys.new_upload_prefix(env.org["id"], env.dataset["id"]) + "another-upload.bin",
        keys.new_upload_prefix(env.org["id"], other_dataset["id"]) + "another-dataset.bin",
        env.prefix + "dataset-root.bin", f"{env.org['id']}/org-root.bin", "bucket-root.bin",
    ]
    for key in elsewhere:
        assert refused(lambda k=key: client.put_object(Bucket=BUCKET, Key=k, Body=b"x")) \
            == "AccessDenied", key
        assert refused(lambda k=key: client.create_multipart_upload(Bucket=BUCKET, Key=k)) \
            == "AccessDenied", key
    assert_no_reads_deletes_or_listings(client, answer["prefix"] + "single.txt")


def test_refreshed_credentials_continue_the_same_upload_and_nothing_else(env, api, store, s3):
    first = api.call("s3multipart_credentials", env.publisher, id="big-data")
    key = first["prefix"] + "resumed.bin"
    upload = client_for(store, first["credentials"]).create_multipart_upload(
        Bucket=BUCKET, Key=key)["UploadId"]

    refreshed = api.call("s3multipart_credentials", env.publisher, id="big-data",
                         prefix=first["prefix"])
    assert refreshed["prefix"] == first["prefix"]
    client = client_for(store, refreshed["credentials"])
    etag = client.upload_part(Bucket=BUCKET, Key=key, UploadId=upload, PartNumber=1,
                              Body=b"after the refresh")["ETag"]
    client.complete_multipart_upload(Bucket=BUCKET, Key=key, UploadId=upload,
                                     MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": etag}]})
    assert s3.get_object(Bucket=BUCKET, Key=key)["Body"].read() == b"after the refresh"
    another = keys.new_upload_prefix(env.org["id"], env.dataset["id"]) + "x.bin"
    assert refused(lambda: client.put_object(Bucket=BUCKET, Key=another, Body=b"x")) \
        == "AccessDenied"
    assert_no_reads_deletes_or_listings(client, key)


def test_batch_credentials_write_the_folders_of_their_batch_and_nothing_else(env, api, store,
                                                                            s3):
    prefix = api.call("s3multipart_batch_keys", env.publisher, id="big-data",
                      files=[{"name": "survey/2024/01/day.csv", "size": 1}])["prefix"]
    answer = api.call("s3multipart_credentials", env.publisher, id="big-data", prefix=prefix)
    client = client_for(store, answer["credentials"])
    assert_may_upload_under(client, s3, prefix + "survey/2024/01/")
    # Renewed beside the finished files, they still reach only this batch.
    renewed = client_for(store, api.call("s3multipart_credentials", env.publisher,
                                         id="big-data", prefix=prefix)["credentials"])
    renewed.put_object(Bucket=BUCKET, Key=prefix + "survey/readme.txt", Body=b"r")
    others = [keys.new_batch_prefix(env.org["id"], env.dataset["id"], env.publisher["id"]),
              keys.new_upload_prefix(env.org["id"], env.dataset["id"]), env.prefix]
    for key in (p + "survey/x.csv" for p in others):
        assert refused(lambda k=key: renewed.put_object(Bucket=BUCKET, Key=k, Body=b"x")) \
            == "AccessDenied", key
    assert_no_reads_deletes_or_listings(renewed, prefix + "survey/readme.txt")


def test_legacy_route_credentials_write_the_whole_dataset_and_nothing_else(env, app, store, s3):
    answer = app.get("/api/3/action/get_s3_auth/big-data",
                     headers={"Authorization": env.publisher["token"]}).json
    assert answer["Prefix"] == env.prefix
    client = client_for(store, answer["Credentials"])
    assert_may_upload_under(client, s3, env.prefix)
    assert_may_upload_under(client, s3, keys.new_upload_prefix(env.org["id"], env.dataset["id"]))
    other_dataset = factories.Dataset(owner_org=env.org["id"])
    for key in (f"{env.org['id']}/{other_dataset['id']}/x.bin", "bucket-root.bin"):
        assert refused(lambda k=key: client.put_object(Bucket=BUCKET, Key=k, Body=b"x")) \
            == "AccessDenied", key
    assert_no_reads_deletes_or_listings(client, env.prefix + "single.txt")


# Presigned URLs -----------------------------------------------------------------------

def _started_upload(api, env) -> tuple[str, str]:
    started = api.call("s3multipart_upload_start", env.publisher, id="big-data",
                       filename="signed.bin", size=20)
    return started["key"], started["upload_id"]


def _part_urls(api, env, key: str, upload_id: str) -> dict[str, str]:
    return api.call("s3multipart_upload_sign", env.publisher, id="big-data", key=key,
                    upload_id=upload_id, part_numbers=[1, 2])["urls"]


def _with_query(url: str, **changes: str) -> str:
    parts = urllib.parse.urlsplit(url)
    query = dict(urllib.parse.parse_qsl(parts.query))
    query.update(changes)
    return urllib.parse.urlunsplit(parts._replace(query=urllib.parse.urlencode(query)))


@pytest.mark.ckan_config("ckanext.s3multipart.mode", "presigned")
def test_a_part_url_carries_only_its_own_part(env, api, store, s3):
    key, upload_id = _started_upload(api, env)
    url = _part_urls(api, env, key, upload_id)["1"]
    signature = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(url).query))["X-Amz-Signature"]
    tampered = ("1" if signature[0] == "0" else "0") + signature[1:]  # always another digit
    other_key, other_upload = _started_upload(api, env)
    abused = {
        "tampered signature": _with_query(url, **{"X-Amz-Signature": tampered}),
        "another part number": _with_query(url, partNumber="2"),
        "another upload": _with_query(url, uploadId=other_upload),
        "another key": url.replace(urllib.parse.quote(key), urllib.parse.quote(other_key)),
    }
    for what, bad_url in abused.items():
        assert bad_url != url, what
        answer = requests.put(bad_url, data=b"x" * 20, timeout=30)
        assert answer.status_code == 403 and "<Code>AccessDenied</Code>" in answer.text, what
    assert requests.put(url, data=b"x" * 20, timeout=30).status_code == 200
    assert [p["part_number"] for p in api.call(
        "s3multipart_upload_list_parts", env.publisher, id="big-data", key=key,
        upload_id=upload_id)["parts"]] == [1]
    assert s3.list_parts(Bucket=BUCKET, Key=other_key, UploadId=other_upload).get("Parts", []) == []


@pytest.mark.ckan_config("ckanext.s3multipart.mode", "presigned")
def test_an_expired_part_url_is_refused(env, api, store):
    key, upload_id = _started_upload(api, env)
    # The server's own signer with a 1-second lifetime (the option's minimum is 900 s).
    url = storage.presign_part(key, upload_id, 1, 1)
    time.sleep(2.5)
    answer = requests.put(url, data=b"x" * 20, timeout=30)
    assert answer.status_code == 403 and "<Code>AccessDenied</Code>" in answer.text
    fresh = _part_urls(api, env, key, upload_id)["1"]
    assert requests.put(fresh, data=b"x" * 20, timeout=30).status_code == 200


@pytest.mark.ckan_config("ckanext.s3multipart.download_expiry", "1")
def test_an_expired_download_url_is_refused(env, app, store, plugin_tables):
    resource = post_file(app, env.publisher, "resource_create", "fresh.csv", b"a,b\n",
                         package_id="big-data")
    location = download(app, resource).headers["Location"]
    assert requests.get(location, timeout=30).content == b"a,b\n"
    time.sleep(2.5)
    assert requests.get(location, timeout=30).status_code == 403
    # The persistent link is CKAN's: following it again gives a fresh URL that works.
    assert requests.get(download(app, resource).headers["Location"], timeout=30).content \
        == b"a,b\n"
