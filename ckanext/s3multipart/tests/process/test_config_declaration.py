"""Every option is declared, and a wrong value stops CKAN at start-up naming the option."""
from __future__ import annotations

import pathlib
import subprocess

import pytest
import yaml

from .ckan_process import ROOT, run_ckan

DECLARATION = ROOT / "ckanext/s3multipart/config_declaration.yaml"
DESIGN_OPTIONS = {
    "s3_bucket", "s3_region", "s3_role", "s3_prefix", "enabled_orgs", "mode", "endpoint_url",
    "sts_endpoint_url", "addressing_style", "aws_access_key_id", "aws_secret_access_key",
    "credentials_duration", "part_size", "concurrency", "max_size", "acl", "download_expiry",
    "files_concurrency",
}


def test_every_design_option_is_declared_with_a_description():
    options = yaml.safe_load(DECLARATION.read_text())["groups"][0]["options"]
    declared = {o["key"].removeprefix("ckanext.s3multipart."): o for o in options}
    assert set(declared) == DESIGN_OPTIONS
    assert all(o.get("description") for o in declared.values())


def _start_ckan(tmp_path: pathlib.Path, **overrides: str) -> subprocess.CompletedProcess:
    """Run a CKAN command with test.ini plus `overrides` of this plugin's options."""
    return run_ckan(tmp_path, {f"ckanext.s3multipart.{k}": v for k, v in overrides.items()},
                    "config", "declaration", "s3multipart")


def test_good_configuration_starts(tmp_path):
    result = _start_ckan(tmp_path)
    assert result.returncode == 0, result.stderr
    assert "ckanext.s3multipart.part_size = 5242880" in result.stdout


@pytest.mark.parametrize("option, value", [
    ("s3_role", "arn:aws:iam::12345:user/not-a-role"),
    ("part_size", "1048576"),
    ("credentials_duration", "600"),
    ("credentials_duration", "43201"),
    ("mode", "magic"),
    ("addressing_style", "sideways"),
    ("concurrency", "0"),
    ("files_concurrency", "0"),
    ("files_concurrency", "17"),
    ("max_size", "-1"),
    ("endpoint_url", "minio.local:9000"),
    ("acl", "public"),
    ("s3_prefix", "data/*"),
    ("s3_prefix", "p" * 513),
    ("s3_bucket", ""),
])
def test_wrong_value_stops_startup_naming_the_option(tmp_path, option, value):
    result = _start_ckan(tmp_path, **{option: value})
    assert result.returncode != 0
    assert f"ckanext.s3multipart.{option}:" in result.stderr + result.stdout


@pytest.mark.parametrize("arn", [
    "arn:aws:iam::123456789012:role/S3MultipartUploadOnly",
    "arn:aws-us-gov:iam::123456789012:role/path/Uploader",
    "arn:aws:iam:::role/ckan-upload",          # Ceph RGW: no account
    "arn:minio:iam:::role/ckan-upload",        # MinIO
])
def test_role_arns_of_aws_and_s3_compatible_stores_are_accepted(tmp_path, arn):
    result = _start_ckan(tmp_path, s3_role=arn)
    assert result.returncode == 0, result.stderr[-2000:]
