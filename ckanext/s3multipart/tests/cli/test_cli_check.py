"""`ckan s3multipart check`: one line per check, a hint for each failure, exit 1 on any."""
from __future__ import annotations

import ckan.model as model
import pytest

from ... import grants
from ...cli.bucket import PART_HEADERS, STS_HEADERS
from ..devsupport import free_port
from ..support import BUCKET, run

pytestmark = pytest.mark.usefixtures("store", "with_extended_cli", "bare_bucket")

SITE = "http://127.0.0.1:5000"  # ckan.site_url in test.ini


def lines(result) -> dict[str, str]:
    """{check name: its line}."""
    found = {}
    for line in result.output.splitlines():
        status, name, *_ = line.split()
        if status in ("OK", "WARN", "FAIL", "SKIP"):
            found[name] = line
    return found


def good_cors(s3, origin: str = SITE, **rule) -> None:
    s3.put_bucket_cors(Bucket=BUCKET, CORSConfiguration={"CORSRules": [{
        "AllowedOrigins": [origin], "AllowedMethods": ["PUT", "POST", "GET", "HEAD", "DELETE"],
        "AllowedHeaders": ["*"], "ExposeHeaders": ["ETag"], **rule}]})


def abort_rule(s3, prefix: str = "") -> None:
    s3.put_bucket_lifecycle_configuration(Bucket=BUCKET, LifecycleConfiguration={"Rules": [{
        "ID": "abort", "Filter": {"Prefix": prefix}, "Status": "Enabled",
        "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 2}}]})


def test_a_good_setup_passes(env, cli, s3, sts_recorder):
    good_cors(s3)
    abort_rule(s3)
    result = run(cli, "check")
    found = lines(result)
    assert list(found) == ["config", "organizations", "credentials", "bucket", "write", "role",
                           "cors", "lifecycle"]
    assert all(line.startswith("OK ") for line in found.values()), result.output
    assert "mode sts" in found["config"] and "enabled: enabled-org" in found["organizations"]
    assert f"browsers at {SITE} may upload" in found["cors"]
    assert "aborted after 2 days (rule abort)" in found["lifecycle"]
    # the role was really assumed, with an upload-only session policy
    probe = [c for c in sts_recorder.calls.values()
             if c["RoleSessionName"].startswith("ckan-s3multipart-check")]
    assert probe and '"s3:PutObject"' in probe[-1]["Policy"]
    # the write probe leaves no upload behind
    assert not [u for u in s3.list_multipart_uploads(Bucket=BUCKET).get("Uploads", [])
                if "s3multipart-check" in u["Key"]]


def test_a_bucket_without_cors_fails_with_a_hint(env, cli, s3):
    abort_rule(s3)
    result = run(cli, "check", status=1)
    cors = lines(result)["cors"]
    assert cors.startswith("FAIL")
    assert f"bucket {BUCKET} has no CORS rules" in cors
    assert "fix: run `ckan s3multipart setup-bucket`" in cors
    assert lines(result)["bucket"].startswith("OK")


def test_a_cors_rule_hiding_etag_fails(env, cli, s3):
    good_cors(s3, ExposeHeaders=["x-amz-request-id"])
    cors = lines(run(cli, "check", status=1))["cors"]
    assert "does not expose ETag" in cors and "setup-bucket" in cors


def test_a_cors_rule_for_another_origin_fails(env, cli, s3):
    good_cors(s3, origin="https://other.example.org")
    cors = lines(run(cli, "check", status=1))["cors"]
    assert f"no rule lets {SITE} PUT parts" in cors


@pytest.mark.ckan_config("ckanext.s3multipart.mode", "presigned")
def test_presigned_mode_needs_only_put_and_no_role(env, cli, s3):
    # enough for presigned part PUTs (with their Content-MD5), not for the AWS SDK calls of
    # STS mode
    good_cors(s3, origin="http://127.0.0.1:*", AllowedMethods=["PUT"],
              AllowedHeaders=PART_HEADERS["presigned"])
    found = lines(run(cli, "check", status=0))
    assert found["role"].startswith("SKIP") and "presigned mode" in found["role"]
    assert found["cors"].startswith("OK")
    assert found["lifecycle"].startswith("WARN") and "setup-bucket" in found["lifecycle"]


@pytest.mark.parametrize("mode", ["sts", "presigned"])
def test_part_puts_need_the_content_md5_header(env, cli, s3, ckan_config, monkeypatch, mode):
    """Every part PUT sends its Content-MD5, in both modes: a rule that allows the
    SDK's headers but not that one fails, naming it."""
    monkeypatch.setitem(ckan_config, "ckanext.s3multipart.mode", mode)
    good_cors(s3, AllowedHeaders=[h for h in STS_HEADERS if h != "content-md5"])
    cors = lines(run(cli, "check", status=1))["cors"]
    assert f"the rules for {SITE} do not allow the headers part uploads send: content-md5" \
        in cors
    assert "AWS SDK" not in cors


def test_sts_part_puts_need_the_sdk_signature_headers(env, cli, s3):
    """In STS mode the SDK signs each part PUT in its headers (for its Content-MD5): a
    rule that allows presigned mode's part PUTs is not enough, and the line names what
    is missing."""
    good_cors(s3, AllowedHeaders=PART_HEADERS["presigned"])
    cors = lines(run(cli, "check", status=1))["cors"]
    assert (f"the rules for {SITE} do not allow the headers part uploads send: authorization, "
            "x-amz-content-sha256, x-amz-date, x-amz-security-token") in cors


def test_sts_mode_needs_the_sdk_methods_and_headers(env, cli, s3):
    good_cors(s3, AllowedMethods=["PUT"], AllowedHeaders=[])
    cors = lines(run(cli, "check", status=1))["cors"]
    assert "send POST, GET, DELETE" in cors


def test_a_header_the_sdk_sends_but_cors_refuses_is_named(env, cli, s3):
    good_cors(s3, AllowedHeaders=["authorization", "content-type", "x-amz-*"])
    cors = lines(run(cli, "check", status=1))["cors"]
    assert "do not allow headers the AWS SDK sends: amz-sdk-invocation-id, " \
           "amz-sdk-request (AllowedHeaders *)" in cors
    assert "send POST" not in cors


def test_a_missing_bucket_fails_and_skips_what_needs_it(env, cli, ckan_config, monkeypatch):
    monkeypatch.setitem(ckan_config, "ckanext.s3multipart.s3_bucket", "no-such-bucket-here")
    found = lines(run(cli, "check", status=1))
    assert found["bucket"].startswith("FAIL")
    assert "fix: create bucket no-such-bucket-here" in found["bucket"]
    for name in ("write", "cors", "lifecycle"):
        assert found[name].startswith("SKIP"), found[name]


def test_an_unreachable_sts_fails_the_role_check(env, cli, s3, ckan_config, monkeypatch):
    monkeypatch.setitem(ckan_config, "ckanext.s3multipart.sts_endpoint_url",
                        f"http://127.0.0.1:{free_port()}")
    good_cors(s3)
    role = lines(run(cli, "check", status=1))["role"]
    assert role.startswith("FAIL") and "STS is unreachable" in role
    assert "fix: check ckanext.s3multipart.sts_endpoint_url" in role


@pytest.mark.ckan_config("ckanext.s3multipart.mode", "sts")
@pytest.mark.ckan_config("ckanext.s3multipart.s3_role", "")
def test_sts_mode_without_a_role_is_a_config_failure(env, cli, s3):
    config = lines(run(cli, "check", status=1))["config"]
    assert config.startswith("FAIL") and "mode is sts but s3_role is empty" in config


@pytest.mark.ckan_config("ckanext.s3multipart.enabled_orgs", "enabled-org no-such-org")
def test_an_unknown_enabled_org_is_a_warning(env, cli, s3):
    good_cors(s3)
    abort_rule(s3)
    found = lines(run(cli, "check"))
    assert found["organizations"].startswith("WARN")
    assert "not organizations of this site: no-such-org" in found["organizations"]


def test_the_checked_headers_name_every_metadata_header_an_upload_sends(env):
    """The browser sends the object's metadata as x-amz-meta-* headers: `check` verifies
    each (with the resource's id, sent when a file replaces a resource's)."""
    package = model.Package.get(env.dataset["id"])
    metadata = grants.metadata(package, env.publisher["name"], resource_id="some-resource")
    assert {f"x-amz-meta-{name}" for name in metadata} <= set(STS_HEADERS)
