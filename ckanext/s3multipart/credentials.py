"""Temporary STS credentials scoped to one key prefix."""
from __future__ import annotations

import json
import re
from typing import Any

from . import config, storage

# Actions a multipart upload needs. PutObject also covers UploadPart and
# CreateMultipartUpload/CompleteMultipartUpload in IAM's action model.
UPLOAD_ACTIONS = ["s3:PutObject", "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts"]


def partition(role_arn: str) -> str:
    """The AWS partition of the role (aws, aws-cn, aws-us-gov), so policies match it.

    S3-compatible stores with their own ARN prefix (arn:minio:...) expect `aws` in S3 ARNs.
    """
    name = role_arn.split(":")[1] if role_arn.startswith("arn:") else "aws"
    return name if name.startswith("aws") else "aws"


def session_policy(bucket: str, prefix: str, arn_partition: str = "aws",
                   with_acl: bool = False) -> dict[str, Any]:
    """The inline session policy: upload under `prefix` in `bucket` and nothing else.

    No reads, deletes or listings. ListBucketMultipartUploads cannot be limited to a
    prefix (AWS sends no s3:prefix key for it), so it is not granted; uploaders resume
    with ListParts on the key they kept.
    """
    actions = UPLOAD_ACTIONS + (["s3:PutObjectAcl"] if with_acl else [])
    return {
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": "S3MultipartUploadUnderPrefix",
            "Effect": "Allow",
            "Action": actions,
            "Resource": f"arn:{arn_partition}:s3:::{bucket}/{prefix}*",
        }],
    }


def _session_name(user_name: str) -> str:
    # RoleSessionName allows [\w+=,.@-], 2 to 64 characters; it shows in CloudTrail.
    name = re.sub(r"[^\w+=,.@-]", "-", f"ckan-{user_name}@{config.site_id()}")
    return name[:64]


def issue(prefix: str, user_name: str) -> dict[str, Any]:
    """AssumeRole's answer for credentials that may upload only under `prefix`."""
    policy = session_policy(config.bucket(), prefix, partition(config.role_arn()),
                            with_acl=bool(config.acl()))
    # Compact: Ceph RGW reads the form-encoded `+` of a space as a literal `+` and refuses
    # the policy; AWS counts a session policy's size against a packed limit too.
    answer = storage.assume_role(_session_name(user_name),
                                 json.dumps(policy, separators=(",", ":")),
                                 config.credentials_duration())
    answer["Credentials"]["Expiration"] = answer["Credentials"]["Expiration"].isoformat()
    return answer
