"""Template helpers."""
from __future__ import annotations

from typing import Any

import ckan.model as model

from . import authz, config, downloads

__all__ = ["s3multipart_form_options", "s3multipart_download_total"]


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
