from __future__ import annotations

import ckan.plugins as p
import ckan.plugins.toolkit as tk

from . import helpers, views
from .logic import action, auth, validators


@tk.blanket.config_declarations
@tk.blanket.helpers(helpers)
@tk.blanket.actions(action)
@tk.blanket.auth_functions(auth)
@tk.blanket.validators(validators)
@tk.blanket.blueprints(views.get_blueprints)
class S3MultipartPlugin(p.SingletonPlugin):
    """Browser-to-S3 multipart uploads for CKAN resources; see README.md."""

    p.implements(p.IConfigurer)

    # IConfigurer

    def update_config(self, config: tk.CKANConfig) -> None:
        tk.add_template_directory(config, "templates")
        tk.add_resource("assets", "s3multipart")
