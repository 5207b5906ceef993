"""Auth functions, one per action, all delegating to the one authorization rule."""
from __future__ import annotations

from typing import Any

import ckan.plugins.toolkit as tk

from .. import authz

__all__ = [
    "s3multipart_credentials",
    "s3multipart_presigned_post",
    "s3multipart_upload_start",
    "s3multipart_upload_sign",
    "s3multipart_upload_list_parts",
    "s3multipart_upload_complete",
    "s3multipart_upload_abort",
]


def _upload(context: dict[str, Any], data_dict: dict[str, Any]) -> dict[str, Any]:
    return authz.upload_allowed(context, (data_dict or {}).get("id", ""))


# Sysadmins are checked too: the organization must be enabled for anyone to upload.
s3multipart_credentials = tk.auth_sysadmins_check(_upload)
s3multipart_presigned_post = tk.auth_sysadmins_check(_upload)
s3multipart_upload_start = tk.auth_sysadmins_check(_upload)
s3multipart_upload_sign = tk.auth_sysadmins_check(_upload)
s3multipart_upload_list_parts = tk.auth_sysadmins_check(_upload)
s3multipart_upload_complete = tk.auth_sysadmins_check(_upload)
s3multipart_upload_abort = tk.auth_sysadmins_check(_upload)
