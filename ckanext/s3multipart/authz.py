"""The authorization rule: may this user upload to this dataset's S3 prefix? And the one
home of "is this dataset's organization enabled for S3"."""
from __future__ import annotations

from typing import Any

import ckan.model as model
import ckan.plugins.toolkit as tk

from . import config


def uploadable_dataset(id_or_name: str) -> model.Package:
    """The active or draft dataset (drafts get their files while being created)."""
    package = model.Package.get(id_or_name) if id_or_name else None
    if package is None or package.state not in ("active", "draft"):
        raise tk.ObjectNotFound(tk._("Dataset not found: {}").format(id_or_name))
    return package


def organization(package: model.Package) -> model.Group | None:
    """The dataset's organization; None for a dataset outside any."""
    return model.Group.get(package.owner_org) if package.owner_org else None


def enabled(package: model.Package) -> bool:
    """Whether the dataset's organization is listed in ckanext.s3multipart.enabled_orgs."""
    org = organization(package)
    return org is not None and config.org_enabled(org.name)


def upload_allowed(context: dict[str, Any], id_or_name: str) -> dict[str, Any]:
    """CKAN auth result for uploading to a dataset.

    Allowed when the user is logged in, the dataset belongs to an organization listed in
    ckanext.s3multipart.enabled_orgs, and the user may both create datasets in that
    organization and update this dataset. Sysadmins are held to the organization rule too.
    """
    package = uploadable_dataset(id_or_name)
    if not context.get("user"):
        return {"success": False, "msg": tk._("Log in to upload files")}
    org = organization(package)
    if org is None:
        return {"success": False, "msg": tk._(
            "Dataset '{}' belongs to no organization; S3 uploads are enabled per "
            "organization, so move it into one first").format(package.name)}
    if not config.org_enabled(org.name):
        return {"success": False, "msg": tk._(
            "Organization '{}' is not enabled for S3 uploads; ask a sysadmin to add it "
            "to ckanext.s3multipart.enabled_orgs").format(org.name)}
    checks = [("package_create", {"owner_org": org.id}), ("package_update", {"id": package.id})]
    for action, data in checks:
        try:
            tk.check_access(action, dict(context), data)
        except tk.NotAuthorized:
            return {"success": False, "msg": tk._(
                "User {} may not upload files to dataset '{}' (needs {} rights)"
            ).format(context["user"], package.name, action)}
    return {"success": True}
