"""Auth functions, one per action: uploads delegate to the one authorization rule,
download counts to resource_show."""
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
    "s3multipart_download_stats",
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


@tk.auth_allow_anonymous_access
def s3multipart_download_stats(context: dict[str, Any],
                               data_dict: dict[str, Any]) -> dict[str, Any]:
    """Whoever may see the resource may see its download counts."""
    try:
        tk.check_access("resource_show", dict(context), {"id": (data_dict or {}).get("id")})
    except tk.NotAuthorized:
        return {"success": False, "msg": tk._("Not authorized to see this resource")}
    return {"success": True}
