"""Template helpers."""
from __future__ import annotations

from typing import Any

import ckan.model as model
import ckan.plugins.toolkit as tk
from werkzeug.routing import BuildError

from . import authz, config, downloads

__all__ = ["s3multipart_form_options", "s3multipart_download_total",
           "s3multipart_upload_files_url"]


def s3multipart_form_options(dataset_id: str | None) -> dict[str, Any] | None:
    """Options for the resource form's "Large file" widget, or None when the dataset's
    organization is not enabled for S3 uploads (the widget is then not shown).

    Permission itself is checked by every action the widget calls; nothing secret here.
    """
    package = model.Package.get(dataset_id) if dataset_id else None
    if package is None or not authz.enabled(package):
        return None
    return {"dataset": package.id, "mode": config.mode(), "max_size": config.max_size()}


def s3multipart_download_total(resource_id: str) -> int | None:
    """Downloads of a resource through its persistent link, or None when unknown."""
    return downloads.total(resource_id)


def s3multipart_upload_files_url(pkg_dict: dict[str, Any]) -> str | None:
    """The dataset's "Upload files" page, or None when the current user may not upload
    to it (the button is then not shown)."""
    context = {"user": tk.current_user.name, "auth_user_obj": tk.current_user}
    try:
        allowed = authz.upload_allowed(context, pkg_dict.get("id") or "")
    except tk.ObjectNotFound:
        return None
    if not allowed["success"]:
        return None
    try:
        return tk.url_for(f"s3multipart_upload_files.{pkg_dict.get('type') or 'dataset'}",
                          id=pkg_dict["name"])
    except BuildError:  # a dataset type registered after the blueprint was made
        return None
