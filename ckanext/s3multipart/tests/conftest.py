"""Fixtures every test folder shares: CKAN without Solr, a publisher with a dataset, the
action API. The stores, the live site and the browser come from fixtures/ (below), so a
test gets a service only by asking for it.

Markers, set here from where a test lives and what it uses: `store` (talks to S3: runs
once per store), `browser` (a real Chromium), `process` (starts CKAN or bin/demo in a
process of its own). `-m "not browser"` and the like select parts of the suite;
`stores("moto")` limits a test to the stores named.
"""
from __future__ import annotations

import ckan.tests.factories as factories
import pytest

from . import devsupport
from .support import Api

pytest_plugins = [
    "ckanext.s3multipart.tests.fixtures.stores",
    "ckanext.s3multipart.tests.fixtures.site",
    "ckanext.s3multipart.tests.fixtures.browser",
]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # `@pytest.mark.stores("moto")`: what only one store can show (moto's STS takes any
    # role ARN, say) is not generated for the other; deselected, never skipped.
    deselected = [item for item in items if _not_for_this_store(item)]
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = [item for item in items if item not in deselected]
    for item in items:
        folder = item.path.parent.name
        if "store" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.store)
        if folder == "browser" or "page" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.browser)
        if folder == "process":
            item.add_marker(pytest.mark.process)


def _not_for_this_store(item: pytest.Item) -> bool:
    marker = item.get_closest_marker("stores")
    callspec = getattr(item, "callspec", None)
    return bool(marker and callspec and callspec.params.get("store_server") not in marker.args)


@pytest.fixture(autouse=True)
def no_solr(monkeypatch) -> None:
    """Replace Solr (absent here) with no-ops: package_show then reads the database."""
    devsupport.no_solr(monkeypatch.setattr)


class Env:
    def __init__(self, sysadmin, publisher, outsider, org, dataset):
        self.sysadmin, self.publisher, self.outsider = sysadmin, publisher, outsider
        self.org, self.dataset = org, dataset

    @property
    def prefix(self) -> str:
        return f"{self.org['id']}/{self.dataset['id']}/"


@pytest.fixture
def env(clean_db, with_plugins) -> Env:
    """A publisher (editor of an enabled organization) with a dataset, and an outsider."""
    sysadmin = factories.SysadminWithToken()
    publisher = factories.UserWithToken()
    outsider = factories.UserWithToken()
    org = factories.Organization(
        name="enabled-org", users=[{"name": publisher["name"], "capacity": "editor"}])
    dataset = factories.Dataset(owner_org=org["id"], name="big-data")
    return Env(sysadmin, publisher, outsider, org, dataset)


@pytest.fixture
def api(app) -> Api:
    return Api(app)
