"""The plugin's alembic migrations (what `ckan db upgrade -p s3multipart` runs)."""
from __future__ import annotations

import datetime

import ckan.model as model
import pytest
import sqlalchemy as sa

from ckanext.s3multipart.model import DownloadCount, Verification

TABLE = "s3multipart_download_count"
VERIFICATION = "s3multipart_verification"
FIRST, HEAD = "2f6c1a9e4b7d", "7c3d5e8f9a1b"


def tables() -> set[str]:
    return set(sa.inspect(model.meta.engine).get_table_names())


def plugin_version() -> str | None:
    with model.meta.engine.connect() as connection:
        return connection.execute(
            sa.text("select version_num from s3multipart_alembic_version")).scalar()


@pytest.mark.usefixtures("with_plugins")
def test_migration_runs_on_an_empty_database_and_again(migrate_db_for):
    model.repo.clean_db()  # drops every table, CKAN's included
    try:
        assert tables() == set()
        migrate_db_for("s3multipart")
        assert {TABLE, VERIFICATION, "s3multipart_alembic_version"} <= tables()
        assert plugin_version() == HEAD

        migrate_db_for("s3multipart")  # nothing left to do: no error, same version
        assert plugin_version() == HEAD

        # A site that ran only the first migration gets the second on its next upgrade.
        migrate_db_for("s3multipart", FIRST, forward=False)
        assert TABLE in tables() and VERIFICATION not in tables()
        migrate_db_for("s3multipart")
        assert VERIFICATION in tables() and plugin_version() == HEAD

        migrate_db_for("s3multipart", "base", forward=False)
        assert not {TABLE, VERIFICATION} & tables()
        migrate_db_for("s3multipart")
        assert {TABLE, VERIFICATION} <= tables()
    finally:
        model.repo.init_db()  # CKAN's tables back for the tests that follow


@pytest.mark.usefixtures("clean_db", "with_plugins")
def test_the_table_matches_the_model(migrate_db_for):
    migrate_db_for("s3multipart")
    columns = {c["name"]: c for c in sa.inspect(model.meta.engine).get_columns(TABLE)}
    assert set(columns) == {c.name for c in DownloadCount.__table__.columns}
    primary = sa.inspect(model.meta.engine).get_pk_constraint(TABLE)["constrained_columns"]
    assert sorted(primary) == ["day", "resource_id"]
    model.Session.add(DownloadCount(resource_id="r", day=datetime.date(2024, 1, 2), count=3))
    model.Session.commit()
    assert model.Session.query(DownloadCount).one().count == 3


@pytest.mark.usefixtures("clean_db", "with_plugins")
def test_the_verification_table_matches_the_model(migrate_db_for):
    migrate_db_for("s3multipart")
    columns = {c["name"] for c in sa.inspect(model.meta.engine).get_columns(VERIFICATION)}
    assert columns == {c.name for c in Verification.__table__.columns}
    primary = sa.inspect(model.meta.engine).get_pk_constraint(VERIFICATION)
    assert primary["constrained_columns"] == ["resource_id"]
