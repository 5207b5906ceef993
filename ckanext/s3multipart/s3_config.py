"""How every boto3 client of this project is configured: one botocore Config for S3 and
STS, with the checksum workaround for S3-compatible stores, used by the server
(storage.py), the publisher's client, the tests and the benchmark. No CKAN import."""
from __future__ import annotations

from typing import Any

from botocore.config import Config

# botocore 1.36+ adds CRC32 checksums (headers, or aws-chunked trailers) to every upload;
# R2, B2, Ceph RGW 16 and other S3-compatible stores refuse them. With this, checksums go
# only where an operation requires one (Content-MD5 protects each part). Older botocore
# has neither the settings nor the checksums.
_WHEN_REQUIRED = {"request_checksum_calculation": "when_required",
                  "response_checksum_validation": "when_required"}


def client_config(addressing_style: str = "auto", *, checksums_when_required: bool = True,
                  signature_version: str | None = "s3v4", **options: Any) -> Config:
    """A botocore Config: SigV4, `addressing_style` (auto, path or virtual), checksums only
    where required (unless `checksums_when_required` is false), and `options` as Config
    takes them (retries, timeouts, pool size)."""
    checksums = _WHEN_REQUIRED if (checksums_when_required and "request_checksum_calculation"
                                   in Config.OPTION_DEFAULTS) else {}
    return Config(signature_version=signature_version, s3={"addressing_style": addressing_style},
                  **checksums, **options)
