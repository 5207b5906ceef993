"""The plugin: CKAN's interfaces wired to the modules that do the work (blanket
decorators for config declarations, helpers, actions, auth functions, validators,
blueprints and commands; IConfigurer, IUploader and IPackageController by hand)."""
from __future__ import annotations

from typing import Any

import ckan.plugins as p
import ckan.plugins.toolkit as tk

from . import config, helpers, upload_field, verification, views
from .logic import action, auth, validators


@tk.blanket.config_declarations
@tk.blanket.helpers(helpers)
@tk.blanket.actions(action)
@tk.blanket.auth_functions(auth)
@tk.blanket.validators(validators)
@tk.blanket.blueprints(views.get_blueprints)
@tk.blanket.cli
class S3MultipartPlugin(p.SingletonPlugin):
    """Browser-to-S3 multipart uploads for CKAN resources; see README.md."""

    p.implements(p.IConfigurer)
    p.implements(p.IUploader, inherit=True)
    p.implements(p.IPackageController, inherit=True)

    # IConfigurer

    def update_config(self, ckan_config: tk.CKANConfig) -> None:
        config.check(ckan_config)
        tk.add_template_directory(ckan_config, "templates")
        tk.add_resource("assets", "s3multipart")

    # IUploader

    def get_resource_uploader(self, data_dict: dict[str, Any]) -> Any:
        return upload_field.get_resource_uploader(data_dict)

    def get_uploader(self, upload_to: str, old_filename: str | None = None) -> None:
        # Group, user and site images stay with CKAN's default storage.
        return None

    # IPackageController

    def after_dataset_show(self, context: dict[str, Any], pkg_dict: dict[str, Any]) -> None:
        # Each S3 resource's fixity check, as `s3_verification` (verification.py).
        verification.add_to(pkg_dict)
