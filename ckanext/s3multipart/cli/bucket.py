"""The bucket's part in this site: where the site's objects live, the CORS and lifecycle
rules browsers and clean-up need (written by `setup-bucket`, verified by `check`)."""
from __future__ import annotations

import fnmatch
import json
import pathlib
import re
import urllib.parse
from typing import Any

import ckan.plugins.toolkit as tk
import click

from .. import config, storage
from ..keys import site_root
from .output import friendly, plural

CORS_METHODS = ["PUT", "POST", "GET", "HEAD", "DELETE"]
# The headers the browser sends, in one list with the browser test that records them, so
# `check` cannot pass a rule the browser fails: on part PUTs (by mode: presigned or sts),
# and in STS mode on the AWS SDK's other calls.
_HEADERS = json.loads((pathlib.Path(__file__).parents[1] / "sts_headers.json").read_text())
PART_HEADERS: dict[str, list[str]] = _HEADERS["part_headers"]
SDK_HEADERS: list[str] = _HEADERS["sdk_headers"]
STS_HEADERS: list[str] = sorted({*PART_HEADERS["sts"], *SDK_HEADERS})


def site_origin() -> str:
    """The browser origin of ckan.site_url (scheme://host[:port], no path)."""
    url = urllib.parse.urlsplit(tk.config.get("ckan.site_url") or "")
    return f"{url.scheme}://{url.netloc}"


def rule_id(purpose: str) -> str:
    site = re.sub(r"[^\w.-]", "-", config.site_id())
    return f"ckanext-s3multipart-{site}{purpose}"[:255]


def matches(pattern: str, value: str) -> bool:
    # S3 allows one * wildcard in AllowedOrigins and AllowedHeaders entries.
    return fnmatch.fnmatchcase(value.lower(), pattern.lower().replace("[", "[[]"))


def cors_rule_for(rules: list[dict[str, Any]], origin: str, method: str,
                  headers: list[str]) -> dict[str, Any] | None:
    """The rule S3 applies to a request: the first whose origin, method and headers match."""
    for rule in rules:
        if (any(matches(o, origin) for o in rule.get("AllowedOrigins", []))
                and method in rule.get("AllowedMethods", [])
                and not refused_headers(rule, headers)):
            return rule
    return None


def refused_headers(rule: dict[str, Any], headers: list[str]) -> list[str]:
    """Those of `headers` that the rule's AllowedHeaders do not allow."""
    return [h for h in headers
            if not any(matches(allowed, h) for allowed in rule.get("AllowedHeaders", []))]


def cors_problems(rules: list[dict[str, Any]], origin: str, mode: str) -> list[str]:
    """What keeps browsers at `origin` from uploading under these CORS rules ([] = nothing)."""
    problems = []
    part_headers = PART_HEADERS[mode]
    put = cors_rule_for(rules, origin, "PUT", part_headers)
    some_put = cors_rule_for(rules, origin, "PUT", [])
    if put is None and some_put is not None:
        problems.append(f"the rules for {origin} do not allow the headers part uploads send: "
                        f"{', '.join(refused_headers(some_put, part_headers))} "
                        "(AllowedHeaders *)")
    elif put is None:
        problems.append(f"no rule lets {origin} PUT parts")
    elif not any(h.lower() == "etag" for h in put.get("ExposeHeaders", [])):
        problems.append(f"the rule for PUT from {origin} does not expose ETag")
    if mode == "sts":
        methods, headers = [], set()
        for method in ("POST", "GET", "DELETE"):
            if cors_rule_for(rules, origin, method, SDK_HEADERS) is not None:
                continue
            rule = cors_rule_for(rules, origin, method, [])
            if rule is None:
                methods.append(method)
            else:  # the method is allowed, some of the SDK's headers are not
                headers.update(refused_headers(rule, SDK_HEADERS))
        if methods:
            problems.append(f"no rule lets {origin} send {', '.join(methods)} with the AWS "
                            "SDK's headers (AllowedHeaders *)")
        if headers:
            problems.append(f"the rules for {origin} do not allow headers the AWS SDK sends: "
                            f"{', '.join(sorted(headers))} (AllowedHeaders *)")
    return problems


def lifecycle_prefix(rule: dict[str, Any]) -> str | None:
    """The key prefix a lifecycle rule applies to (None when it also filters on tags/size)."""
    if "Filter" not in rule:
        return rule.get("Prefix", "")
    filter_ = rule["Filter"]
    if set(filter_) <= {"Prefix"}:
        return filter_.get("Prefix", "")
    return None


# setup-bucket -------------------------------------------------------------------------

def cors_rule(origin: str) -> dict[str, Any]:
    """The CORS rule browsers at `origin` need to upload (docs/store-setup.md); the tests,
    the benchmark and the demo give their buckets this one too."""
    return {"AllowedOrigins": [origin], "AllowedMethods": CORS_METHODS, "AllowedHeaders": ["*"],
            "ExposeHeaders": ["ETag", "x-amz-version-id"], "MaxAgeSeconds": 3000}


def site_cors_rule() -> dict[str, Any]:
    """`cors_rule` for ckan.site_url, with this site's rule ID."""
    return {"ID": rule_id(""), **cors_rule(site_origin())}


def abort_rule(days: int, legacy_prefix: bool) -> dict[str, Any]:
    """The lifecycle rule aborting this site's incomplete uploads after `days` days."""
    rule: dict[str, Any] = {"ID": rule_id("-abort-incomplete-uploads"), "Status": "Enabled",
                            "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": days}}
    # S3 refuses a configuration that mixes rules with a top-level Prefix (the old form)
    # and rules with a Filter, so ours follows the bucket's existing rules.
    if legacy_prefix:
        rule["Prefix"] = site_root()
    else:
        rule["Filter"] = {"Prefix": site_root()}
    return rule


def replace_rule(rules: list[dict[str, Any]], ours: dict[str, Any],
                 first: bool) -> list[dict[str, Any]]:
    """`rules` with ours replacing the rule of the same ID (or added first or last)."""
    others = [r for r in rules if r.get("ID") != ours["ID"]]
    if len(others) < len(rules) and not first:
        return [ours if r.get("ID") == ours["ID"] else r for r in rules]
    return [ours, *others] if first else [*others, ours]


def same_rules(stored: list[dict[str, Any]], wanted: list[dict[str, Any]]) -> bool:
    """Whether the bucket already has exactly these rules, as a store may write them back:
    Ceph RGW reorders rules and the methods of a CORS rule, and reads a lifecycle Filter of
    only a Prefix back as the old top-level Prefix."""
    def canonical(rule: dict[str, Any]) -> str:
        rule = dict(rule)
        if "Prefix" in rule and "Filter" not in rule:
            rule["Filter"] = {"Prefix": rule.pop("Prefix")}
        return json.dumps({k: sorted(v) if isinstance(v, list) and all(
            isinstance(i, str) for i in v) else v for k, v in rule.items()}, sort_keys=True)
    return sorted(map(canonical, stored)) == sorted(map(canonical, wanted))


@click.command("setup-bucket", short_help="Write the bucket's CORS and lifecycle rules.")
@click.option("--abort-after-days", default=7, show_default=True, type=click.IntRange(1, 36500),
              help="Days after which S3 aborts an incomplete multipart upload of this site.")
@friendly
def setup_bucket(abort_after_days: int) -> None:
    """Write the bucket's CORS rule for ckan.site_url and a lifecycle rule that aborts
    this site's incomplete multipart uploads. The bucket's other rules are kept;
    running it again changes nothing."""
    cors = storage.bucket_cors()
    # First: S3 applies the first rule that matches, and ours must expose ETag.
    new_cors = replace_rule(cors, site_cors_rule(), first=True)
    others = len(new_cors) - 1
    if same_rules(cors, new_cors):
        click.echo(f"CORS: rule {rule_id('')} for {site_origin()} already set")
    else:
        storage.put_bucket_cors(new_cors)
        click.echo(f"CORS: rule {rule_id('')} lets {site_origin()} upload "
                   f"({', '.join(CORS_METHODS)}; exposes ETag); "
                   f"{plural(others, 'other rule')} kept")
    lifecycle = storage.bucket_lifecycle()
    legacy = any("Prefix" in r and "Filter" not in r for r in lifecycle)
    new_lifecycle = replace_rule(lifecycle, abort_rule(abort_after_days, legacy), first=False)
    others = len(new_lifecycle) - 1
    where = f"under '{site_root()}'" if site_root() else "in the whole bucket"
    if same_rules(lifecycle, new_lifecycle):
        click.echo(f"Lifecycle: rule {rule_id('-abort-incomplete-uploads')} already set")
    else:
        storage.put_bucket_lifecycle(new_lifecycle)
        click.echo(f"Lifecycle: incomplete multipart uploads {where} are aborted after "
                   f"{plural(abort_after_days, 'day')}; {plural(others, 'other rule')} kept")

