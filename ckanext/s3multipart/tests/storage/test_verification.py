"""Fixity: a resource's `hash` is a claim; a real `ckan jobs worker` reads the object back,
computes its SHA-256 and records verified or mismatch, which resource_show and the resource
page show. Without a worker, everything works as before and says "not verified yet"."""
from __future__ import annotations

import hashlib

import ckan.plugins.toolkit as tk
import pytest
from ckan.tests.helpers import call_action

from ckanext.s3multipart import keys

from ..support import BUCKET, run

pytestmark = pytest.mark.usefixtures("store", "plugin_tables")


def put(s3, env, name: str, body: bytes) -> str:
    key = keys.new_upload_prefix(env.org["id"], env.dataset["id"]) + name
    s3.put_object(Bucket=BUCKET, Key=key, Body=body)
    return key


def sha256(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


def create(api, env, key: str, **fields) -> dict:
    return api.call("resource_create", env.publisher, package_id="big-data",
                    url_type="upload", s3_key=key, **fields)


def show(resource: dict) -> dict:
    return call_action("resource_show", id=resource["id"])


def queued() -> list[str]:
    return [job["title"] for job in tk.get_action("job_list")({"ignore_auth": True}, {})]


def test_without_a_worker_the_resource_says_not_verified_yet(env, api, s3, app):
    body = b"a,b\n1,2\n"
    resource = create(api, env, put(s3, env, "plain.csv", body), hash=sha256(body).upper())
    # The claim is kept, lowercase, with CKAN's own hash_algorithm field.
    shown = show(resource)
    assert shown["hash"] == sha256(body) and shown["hash_algorithm"] == "sha256"
    assert shown["s3_verification"] == {"status": "pending"}
    assert f"s3multipart verify {resource['id']}" in queued()
    page = app.get(f"/dataset/big-data/resource/{resource['id']}").body
    assert sha256(body) in page and "not verified yet" in page
    # Downloads work as before.
    answer = app.get(f"/dataset/big-data/resource/{resource['id']}/download/plain.csv",
                     follow_redirects=False)
    assert answer.status_code == 302


def test_the_worker_verifies_good_objects_and_finds_replaced_and_missing_ones(
        env, api, s3, app, jobs_worker):
    good, other = b"x" * 1000, b"y" * 1000
    kept = create(api, env, put(s3, env, "good.bin", good), hash=sha256(good))
    replaced_key = put(s3, env, "replaced.bin", good)
    replaced = create(api, env, replaced_key, hash=sha256(good))
    unclaimed = create(api, env, put(s3, env, "unclaimed.bin", other))
    gone_key = put(s3, env, "gone.bin", good)
    gone = create(api, env, gone_key, hash=sha256(good))
    # Behind CKAN's back: same size, other bytes; and an object deleted.
    s3.put_object(Bucket=BUCKET, Key=replaced_key, Body=other)
    s3.delete_object(Bucket=BUCKET, Key=gone_key)

    log = jobs_worker()

    checked = show(kept)["s3_verification"]
    assert checked["status"] == "verified" and checked["object_sha256"] == sha256(good)
    assert checked["checked"].startswith("20")
    mismatch = show(replaced)["s3_verification"]
    assert mismatch["status"] == "mismatch" and mismatch["object_sha256"] == sha256(other)
    assert sha256(good) in mismatch["message"] and sha256(other) in mismatch["message"]
    assert f"Verification of resource {replaced['id']}: mismatch" in log
    # No claim: the object's own SHA-256 becomes the resource's.
    filled = show(unclaimed)
    assert filled["hash"] == sha256(other) and filled["hash_algorithm"] == "sha256"
    assert filled["s3_verification"]["status"] == "verified"
    assert show(gone)["s3_verification"]["status"] == "missing"

    page = app.get(f"/dataset/big-data/resource/{replaced['id']}").body
    assert "mismatch" in page and sha256(other) in page
    page = app.get(f"/dataset/big-data/resource/{kept['id']}").body
    assert "verified against the stored file" in page


def test_a_new_object_is_checked_again_and_a_stale_hash_is_not_carried_over(
        env, api, s3, jobs_worker):
    first, second = b"first" * 100, b"second" * 100
    resource = create(api, env, put(s3, env, "v1.bin", first), hash=sha256(first))
    jobs_worker()
    assert show(resource)["s3_verification"]["status"] == "verified"
    # resource_patch keeps every other field: the first file's hash must not stay.
    api.call("resource_patch", env.publisher, id=resource["id"],
             s3_key=put(s3, env, "v2.bin", second))
    patched = show(resource)
    assert patched["hash"] == "" and patched["s3_verification"] == {"status": "pending"}
    jobs_worker()
    again = show(resource)
    assert again["hash"] == sha256(second)
    assert again["s3_verification"]["status"] == "verified"


def test_editing_other_fields_queues_nothing_and_stores_no_verification_extra(
        env, api, s3, jobs_worker):
    body = b"z" * 10
    resource = create(api, env, put(s3, env, "z.bin", body), hash=sha256(body))
    jobs_worker()
    api.call("resource_patch", env.publisher, id=resource["id"], description="Edited")
    assert queued() == []
    import ckan.model as model
    assert "s3_verification" not in model.Resource.get(resource["id"]).extras
    assert show(resource)["s3_verification"]["status"] == "verified"


def test_a_hash_that_is_no_sha256_is_refused(env, api, s3):
    key = put(s3, env, "bad-hash.csv", b"1")
    error = api.call("resource_create", env.publisher, status=409, package_id="big-data",
                     url_type="upload", s3_key=key, hash="not-a-digest")
    assert "64 hexadecimal digits" in error["hash"][0]


@pytest.mark.usefixtures("with_extended_cli")
def test_the_verify_command_queues_or_checks_now_and_names_each_mismatch(
        env, api, s3, cli, jobs_worker):
    good, other = b"g" * 100, b"o" * 100
    kept = create(api, env, put(s3, env, "kept.bin", good), hash=sha256(good))
    key = put(s3, env, "swapped.bin", good)
    swapped = create(api, env, key, hash=sha256(good))
    jobs_worker()
    assert show(swapped)["s3_verification"]["status"] == "verified"

    out = run(cli, "verify").output
    assert "Queued 0 checks" in out and "2 verified already" in out
    out = run(cli, "verify", "--all", "--dataset", "big-data").output
    assert "Queued 2 checks" in out
    assert len(queued()) == 2

    s3.put_object(Bucket=BUCKET, Key=key, Body=other)  # years later, on a failing disk
    out = run(cli, "verify", "--all", "--now", status=1).output
    assert f"verified  big-data/kept.bin (resource {kept['id']})" in out
    assert f"mismatch  big-data/swapped.bin (resource {swapped['id']})" in out
    assert "1 verified, 1 mismatch, 0 missing, 0 error" in out
    assert show(swapped)["s3_verification"]["status"] == "mismatch"
    run(cli, "verify", "--dataset", "no-such-dataset", status=1)


@pytest.mark.usefixtures("with_extended_cli")
def test_a_job_lost_with_its_worker_is_queued_again_by_verify(env, api, s3, cli, jobs_worker):
    body = b"lost" * 10
    resource = create(api, env, put(s3, env, "lost.bin", body), hash=sha256(body))
    tk.get_action("job_clear")({"ignore_auth": True}, {})  # the worker died with it
    assert show(resource)["s3_verification"] == {"status": "pending"}
    assert "Queued 1 check for `ckan jobs worker`." in run(cli, "verify").output
    jobs_worker()
    assert show(resource)["s3_verification"]["status"] == "verified"
