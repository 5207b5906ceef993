"""`ckan s3multipart setup-bucket`: this site's CORS and abort rules, others kept."""
from __future__ import annotations

import pytest

from ...cli.bucket import cors_problems
from ..support import BUCKET, run

pytestmark = pytest.mark.usefixtures("store", "with_extended_cli", "bare_bucket")

OTHER_RULES = [
    {"ID": "expire-logs", "Filter": {"Prefix": "logs/"}, "Status": "Enabled",
     "Expiration": {"Days": 30}},
    {"ID": "archive-tagged", "Filter": {"And": {"Prefix": "x/", "Tags": [
        {"Key": "archive", "Value": "yes"}]}}, "Status": "Enabled",
     "Transitions": [{"Days": 90, "StorageClass": "GLACIER"}]},
]
OTHER_CORS = {"ID": "public-reads", "AllowedOrigins": ["https://maps.example.org"],
              "AllowedMethods": ["GET"]}
OURS = "ckanext-s3multipart-s3mp-test"  # ckan.site_id in test.ini


def lifecycle(s3) -> list[dict]:
    return s3.get_bucket_lifecycle_configuration(Bucket=BUCKET)["Rules"]


def by_id(rules: list[dict]) -> dict[str, dict]:
    """Lifecycle rules by ID, in Filter form. Ceph RGW reads rules back sorted by ID, a
    Filter of only an empty Prefix as the old top-level Prefix, and And with one tag as
    Tag: the same rules, written another way."""
    found = {}
    for rule in rules:
        rule = dict(rule)
        if "Prefix" in rule and "Filter" not in rule:
            rule["Filter"] = {"Prefix": rule.pop("Prefix")}
        found[rule["ID"]] = rule
    return found


ABORT_RULE = f"{OURS}-abort-incomplete-uploads"


def cors(s3) -> list[dict]:
    """The bucket's CORS rules in order, methods sorted (Ceph RGW reorders them)."""
    rules = s3.get_bucket_cors(Bucket=BUCKET)["CORSRules"]
    return [{**rule, "AllowedMethods": sorted(rule["AllowedMethods"])} for rule in rules]


def test_rules_are_added_and_the_buckets_other_rules_kept(env, cli, s3):
    s3.put_bucket_lifecycle_configuration(Bucket=BUCKET,
                                          LifecycleConfiguration={"Rules": OTHER_RULES})
    s3.put_bucket_cors(Bucket=BUCKET, CORSConfiguration={"CORSRules": [OTHER_CORS]})
    theirs = by_id(lifecycle(s3))  # as the store keeps them

    output = run(cli, "setup-bucket", "--abort-after-days", "3").output
    assert "CORS: rule ckanext-s3multipart-s3mp-test lets http://127.0.0.1:5000 upload" in output
    assert "aborted after 3 days; 2 other rules kept" in output

    rules = by_id(lifecycle(s3))
    assert set(rules) == {*theirs, ABORT_RULE}
    assert {name: rules[name] for name in theirs} == theirs
    assert rules[ABORT_RULE] == {"ID": ABORT_RULE, "Filter": {"Prefix": ""},
                                 "Status": "Enabled",
                                 "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 3}}
    # ours first: S3 applies the first rule matching a request
    assert cors(s3) == [{"ID": OURS, "AllowedOrigins": ["http://127.0.0.1:5000"],
                         "AllowedMethods": ["DELETE", "GET", "HEAD", "POST", "PUT"],
                         "AllowedHeaders": ["*"], "ExposeHeaders": ["ETag", "x-amz-version-id"],
                         "MaxAgeSeconds": 3000}, OTHER_CORS]

    # and the site now passes its own check
    run(cli, "check")


def test_running_again_changes_nothing_and_a_new_period_replaces_ours(env, cli, s3):
    s3.put_bucket_lifecycle_configuration(Bucket=BUCKET,
                                          LifecycleConfiguration={"Rules": OTHER_RULES})
    theirs = by_id(lifecycle(s3))
    run(cli, "setup-bucket")
    before = lifecycle(s3), cors(s3)
    assert by_id(before[0])[ABORT_RULE]["AbortIncompleteMultipartUpload"] == \
        {"DaysAfterInitiation": 7}

    output = run(cli, "setup-bucket").output
    assert "already set" in output.splitlines()[0] and "already set" in output.splitlines()[1]
    assert (lifecycle(s3), cors(s3)) == before

    run(cli, "setup-bucket", "--abort-after-days", "1")
    rules = by_id(lifecycle(s3))
    assert set(rules) == {*theirs, ABORT_RULE}
    assert {name: rules[name] for name in theirs} == theirs
    assert rules[ABORT_RULE]["AbortIncompleteMultipartUpload"] == {"DaysAfterInitiation": 1}
    assert len(cors(s3)) == 1


@pytest.mark.ckan_config("ckanext.s3multipart.s3_prefix", "portal/data")
def test_the_abort_rule_covers_only_the_site_prefix(env, cli, s3):
    run(cli, "setup-bucket")
    (rule,) = by_id(lifecycle(s3)).values()
    assert rule["Filter"] == {"Prefix": "portal/data/"}


def test_a_nonsense_period_is_refused(env, cli, s3):
    result = run(cli, "setup-bucket", "--abort-after-days", "0", status=2)
    assert "0 is not in the range" in result.output


@pytest.mark.parametrize("mode", ["sts", "presigned"])
def test_the_rule_written_passes_check_in_either_mode(env, cli, s3, mode):
    """The rule lets browsers send what they send (the parts' Content-MD5 too)."""
    run(cli, "setup-bucket")
    assert cors_problems(cors(s3), "http://127.0.0.1:5000", mode) == []
