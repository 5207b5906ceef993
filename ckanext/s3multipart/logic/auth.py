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
    "s3multipart_batch_keys",
    "s3multipart_resources_create",
    "s3multipart_download_stats",
]


def _upload_rule(name: str) -> Any:
    """An auth function named `name` that applies the upload rule.

    Sysadmins are checked too (the organization must be enabled for anyone to upload),
    and anonymous users reach the rule, which tells them to log in.
    """
    def auth(context: dict[str, Any], data_dict: dict[str, Any]) -> dict[str, Any]:
        return authz.upload_allowed(context, (data_dict or {}).get("id", ""))
    auth.__name__ = auth.__qualname__ = name
    return tk.auth_allow_anonymous_access(tk.auth_sysadmins_check(auth))


s3multipart_credentials = _upload_rule("s3multipart_credentials")
s3multipart_presigned_post = _upload_rule("s3multipart_presigned_post")
s3multipart_upload_start = _upload_rule("s3multipart_upload_start")
s3multipart_upload_sign = _upload_rule("s3multipart_upload_sign")
s3multipart_upload_list_parts = _upload_rule("s3multipart_upload_list_parts")
s3multipart_upload_complete = _upload_rule("s3multipart_upload_complete")
s3multipart_upload_abort = _upload_rule("s3multipart_upload_abort")
s3multipart_batch_keys = _upload_rule("s3multipart_batch_keys")
s3multipart_resources_create = _upload_rule("s3multipart_resources_create")


@tk.auth_allow_anonymous_access
def s3multipart_download_stats(context: dict[str, Any],
                               data_dict: dict[str, Any]) -> dict[str, Any]:
    """Whoever may see the resource may see its download counts."""
    try:
        tk.check_access("resource_show", dict(context), {"id": (data_dict or {}).get("id")})
    except tk.NotAuthorized:
        return {"success": False, "msg": tk._("Not authorized to see this resource")}
    return {"success": True}
