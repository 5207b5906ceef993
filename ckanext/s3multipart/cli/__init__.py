"""`ckan s3multipart ...`: the operator's commands, one module a topic.

check (check.py), setup-bucket (bucket.py), list, orphans and abort-stale (inventory.py),
migrate (migrate.py) and verify (verify.py). Every S3 call goes through `storage`; errors
end the command with one line and a hint (output.py), never a traceback.
"""
from __future__ import annotations

import click

from . import bucket, check, inventory, migrate, verify

__all__ = ["s3multipart"]


@click.group(short_help="S3 uploads: check and set up the bucket, list, clean up, migrate, verify.")
def s3multipart() -> None:
    """Operator commands of ckanext-s3multipart."""


for command in (check.check, bucket.setup_bucket, inventory.list_datasets, inventory.orphans,
                inventory.abort_stale, migrate.migrate, verify.verify):
    s3multipart.add_command(command)
