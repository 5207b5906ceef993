"""pytest plugin for CKAN's own tests run without and with s3multipart (bin/core-tests).

Loaded with `-p` (see pytest-core.ini). `--core-compat-run=plain|with` picks the run; the
two runs differ only in s3multipart being added to every test's `ckan.plugins`. Identical
in both: moto's server as the store, no Solr, plugins always loaded through
`with_plugins`, datasets from `factories.Dataset` put in an organization. Each test's
outcome is written to `--core-compat-results` (JSON) for compare.py.
"""
from __future__ import annotations

import json
import logging
import platform
from collections.abc import Iterator
from importlib.metadata import version
from pathlib import Path
from typing import Any

import boto3
import pytest

from .. import devsupport

BUCKET = "ckan-core-tests"  # as ckanext.s3multipart.s3_bucket in ckan.ini
PLUGIN = "s3multipart"
RUNS = ("plain", "with")


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("core_compat", "CKAN's own tests without and with s3multipart")
    group.addoption("--core-compat-run", choices=RUNS,
                    help="plain: CKAN alone; with: s3multipart added to every test's plugins")
    group.addoption("--core-compat-results", metavar="PATH",
                    help="write each test's outcome here as JSON")


def pytest_configure(config: pytest.Config) -> None:
    if config.getoption("core_compat_run") is None:
        raise pytest.UsageError("--core-compat-run=plain|with is required with this plugin")
    path = config.getoption("core_compat_results")
    if path:
        config.pluginmanager.register(Recorder(Path(path), config), "core_compat_recorder")


def pytest_sessionstart(session: pytest.Session) -> None:
    import ckan.model as model

    # bin/core-tests migrated the database (the with-run's for s3multipart too). Without
    # this, the first reset_db drops every table and recreates only core's, and the
    # extension would run without its own tables, as no site does.
    model.repo.tables_created_and_initialised = True


# Services ------------------------------------------------------------------------------

@pytest.fixture(scope="session")
def core_compat_moto() -> Iterator[str]:
    """moto's server (S3 and STS) on a free 127.0.0.1 port, with the bucket, in both runs."""
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    url = f"http://{host}:{port}"
    boto3.client("s3", endpoint_url=url, region_name="us-east-1", aws_access_key_id="x",
                 aws_secret_access_key="y").create_bucket(Bucket=BUCKET)
    yield url
    server.stop()


def _datasets_in_organizations(monkeypatch: pytest.MonkeyPatch) -> None:
    """`factories.Dataset` without `owner_org` goes into a fresh organization whose admin is
    the acting user, so uploads in core's tests reach an enabled organization (every one,
    `enabled_orgs = *`). An explicit `owner_org`, even None, is left alone."""
    import ckan.tests.factories as factories
    import ckan.tests.helpers as helpers

    prepare = factories.CKANFactory._api_prepare_args.__func__  # type: ignore[attr-defined]

    def in_fresh_org(cls: type, data_dict: dict[str, Any]) -> dict[str, Any]:
        data_dict = prepare(cls, data_dict)  # fills context["user"] as core does
        user = data_dict["context"].get("user")
        if "owner_org" not in data_dict and user:
            org = helpers.call_action("organization_create", context={"user": user},
                                      name=factories._name("organization"))
            data_dict["owner_org"] = org["id"]
        return data_dict

    monkeypatch.setattr(factories.Dataset, "_api_prepare_args", classmethod(in_fresh_org))


@pytest.fixture(autouse=True)
def core_compat_env(request: pytest.FixtureRequest, ckan_config: Any,
                    monkeypatch: pytest.MonkeyPatch, core_compat_moto: str) -> None:
    """Before each test: the same environment in both runs, s3multipart in the with-run.

    Autouse fixtures of a plugin set up before the test's own `with_plugins`, so the
    plugin list is complete when CKAN loads it. Requesting `with_plugins` for every test
    makes tests that load no plugins themselves run with s3multipart too; the plain run
    does the same, so loading plugins is never the difference.
    """
    monkeypatch.setitem(ckan_config, "ckanext.s3multipart.endpoint_url", core_compat_moto)
    monkeypatch.setitem(ckan_config, "ckanext.s3multipart.sts_endpoint_url", core_compat_moto)
    devsupport.no_solr(monkeypatch.setattr)
    _datasets_in_organizations(monkeypatch)
    if request.config.getoption("core_compat_run") == "with":
        plugins = ckan_config.get("ckan.plugins") or []
        names = plugins.split() if isinstance(plugins, str) else list(plugins)
        # Last, as a site adds an extension to the plugins it has.
        monkeypatch.setitem(ckan_config, "ckan.plugins", " ".join([*names, PLUGIN]))
    request.getfixturevalue("with_plugins")


# Results -------------------------------------------------------------------------------

class Recorder:
    """Each test's outcome by node id: passed, failed, error (setup or teardown), skipped,
    xfailed; with the failure's message and report text for compare.py."""

    def __init__(self, path: Path, config: pytest.Config) -> None:
        self.path = path
        self.config = config
        self.tests: dict[str, dict[str, Any]] = {}

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        entry = self.tests.setdefault(report.nodeid, {"outcome": "passed"})
        if report.when == "call":
            entry["duration"] = round(report.duration, 3)
        if hasattr(report, "wasxfail"):
            outcome = "xfailed" if report.skipped else "passed"
        elif report.failed:
            outcome = "failed" if report.when == "call" else "error"
        elif report.skipped:
            outcome = "skipped"
        else:
            return
        if entry["outcome"] in ("failed", "error"):
            return  # the first failure is the one that explains the test
        entry["outcome"] = outcome
        if report.failed or report.skipped:
            entry["when"] = report.when
            entry["message"] = _message(report)
            entry["text"] = report.longreprtext[-6000:]

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.write_text(json.dumps({
            "run": self.config.getoption("core_compat_run"),
            "ckan": version("ckan"),
            "python": platform.python_version(),
            "exitstatus": int(exitstatus),
            "tests": self.tests,
        }, indent=1, sort_keys=True))


def _message(report: pytest.TestReport) -> str:
    crash = getattr(report.longrepr, "reprcrash", None)
    if crash is not None:
        return f"{crash.path}:{crash.lineno}\n{crash.message}"
    if isinstance(report.longrepr, tuple):  # a skip: (path, line, reason)
        return str(report.longrepr[2])
    return report.longreprtext.strip().splitlines()[-1] if report.longreprtext else ""
