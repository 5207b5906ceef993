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


class Verification(tk.BaseModel):  # type: ignore[misc, valid-type]
    """The last fixity check of one resource's object: what the resource claimed (`hash`),
    what the store's bytes hash to, and when. One row a resource, replaced by each check."""

    __tablename__ = "s3multipart_verification"

    resource_id = sa.Column(sa.UnicodeText, primary_key=True)
    s3_key = sa.Column(sa.UnicodeText, nullable=False)
    # pending (queued for a worker), verified, mismatch, missing (no object), error
    status = sa.Column(sa.UnicodeText, nullable=False)
    expected = sa.Column(sa.UnicodeText, nullable=False, server_default="")
    actual = sa.Column(sa.UnicodeText, nullable=False, server_default="")
    size = sa.Column(sa.BigInteger)
    queued = sa.Column(sa.DateTime(timezone=True))
    checked = sa.Column(sa.DateTime(timezone=True))
    message = sa.Column(sa.UnicodeText, nullable=False, server_default="")
