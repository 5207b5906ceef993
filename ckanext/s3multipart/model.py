"""Tables of the extension. They are created only by the plugin's alembic migration
(`ckan db upgrade -p s3multipart`), never by `create_all`."""
from __future__ import annotations

import ckan.plugins.toolkit as tk
import sqlalchemy as sa


class DownloadCount(tk.BaseModel):  # type: ignore[misc, valid-type]
    """Downloads of one resource through its persistent link on one day (UTC)."""

    __tablename__ = "s3multipart_download_count"

    resource_id = sa.Column(sa.UnicodeText, primary_key=True)
    day = sa.Column(sa.Date, primary_key=True)
    count = sa.Column(sa.BigInteger, nullable=False, server_default="0")
