from __future__ import annotations

from typing import Any

import ckan.plugins as p
import ckan.plugins.toolkit as tk

from . import config as s3_config
from . import helpers, uploader, views
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

    # IConfigurer

    def update_config(self, config: tk.CKANConfig) -> None:
        s3_config.check(config)
        tk.add_template_directory(config, "templates")
        tk.add_resource("assets", "s3multipart")

    # IUploader

    def get_resource_uploader(self, data_dict: dict[str, Any]) -> Any:
        return uploader.get_resource_uploader(data_dict)

    def get_uploader(self, upload_to: str, old_filename: str | None = None) -> None:
        # Group, user and site images stay with CKAN's default storage.
        return None
