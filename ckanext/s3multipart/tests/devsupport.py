"""Development support shared by the tests, `bin/bench` and `bin/demo` (the extension
never imports it): a stand-in for Solr, free ports on 127.0.0.1, Debian's Chromium, the
browser's modules run through Node and `ckan jobs worker` without Solr.
The bucket's CORS rule for a site is the product's own, `cli.bucket.cors_rule`."""
from __future__ import annotations

import json
import pathlib
import re
import socket
import subprocess
import sys
from collections.abc import Callable
from typing import Any

ASSETS = pathlib.Path(__file__).resolve().parents[1] / "assets" / "src"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run"]


def free_port() -> int:
    """A TCP port nothing listens on now, on 127.0.0.1."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def in_node(module: str, body: str, data: Any) -> Any:
    """Run `body` (JavaScript with `m`, the module assets/src/<module>, and `input`, `data`
    as JSON) in Node and give back what it returns (awaited), as JSON."""
    script = (f"const m = await import({json.dumps((ASSETS / module).as_uri())});"
              "const input = JSON.parse(readFileSync(0, 'utf8'));"
              f"console.log(JSON.stringify(await (async (input) => {{ {body} }})(input)))")
    out = subprocess.run(["node", "--no-warnings", "--input-type=module", "-e",
                          "import { readFileSync } from 'node:fs';" + script],
                         input=json.dumps(data), capture_output=True, text=True, check=True,
                         timeout=60).stdout
    return json.loads(out)


def no_solr(patch: Callable[[Any, str, Any], None] = setattr,
            search_database: bool = False) -> None:
    """Replace Solr (absent on this machine): the package index does nothing and
    package_show reads PostgreSQL. Searches find nothing, or with `search_database`
    read the datasets from PostgreSQL (honouring permission labels) so that the demo's
    dataset list renders. `patch` is `setattr` or a test's `monkeypatch.setattr`, which
    undoes it after the test."""
    import ckan.lib.search as search
    from ckan.lib.search.index import NoopSearchIndex
    from ckan.lib.search.query import PackageSearchQuery

    class NoSolrIndex(NoopSearchIndex):
        # SearchIndex.clear talks to Solr, and NoopSearchIndex lacks what clean_index,
        # search.commit and dataset_purge call (CKAN's own tests do): all no-ops here.
        def clear(self) -> None:
            pass

        def commit(self) -> None:
            pass

        def delete_package(self, pkg_dict: dict[str, Any]) -> None:
            pass

    def show(reference: str) -> dict[str, Any]:
        raise search.SearchError("no Solr here: package_show reads the database")

    def find_nothing(self: Any, query: Any, permission_labels: Any = None,
                     **kwargs: Any) -> dict[str, Any]:
        self.count, self.results, self.facets, self.raw_response = 0, [], {}, {}
        return {"results": [], "count": 0}

    patch(search, "_INDICES", {**search._INDICES, "package": NoSolrIndex})
    patch(search, "show", show)
    patch(PackageSearchQuery, "run", _search_database if search_database else find_nothing)


def _search_database(self: Any, query: dict[str, Any], permission_labels: list[str] | None = None,
                     **kwargs: Any) -> dict[str, Any]:
    """PackageSearchQuery.run from PostgreSQL: state, organization and title filters,
    newest first, only what `permission_labels` may see."""
    import ckan.lib.plugins as lib_plugins
    import ckan.model as model
    from ckan.logic import get_action

    fq = " ".join(query.get("fq_list", [])) + " " + query.get("fq", "")
    states = re.search(r"\+state:\(([^)]*)\)", fq)
    wanted_states = states.group(1).split(" OR ") if states else ["active"]
    packages = model.Session.query(model.Package).filter(
        model.Package.state.in_(wanted_states), model.Package.type == "dataset")
    org = re.search(r'owner_org:"?([\w-]+)"?', fq)
    if org:
        packages = packages.filter(model.Package.owner_org == org.group(1))
    text = (query.get("q") or "").strip()
    if text and text != "*:*":
        like = f"%{text}%"
        packages = packages.filter(model.Package.title.ilike(like) | model.Package.name.ilike(like))
    labels = lib_plugins.get_permission_labels()
    visible = [p for p in packages.order_by(model.Package.metadata_modified.desc())
               if permission_labels is None
               or set(labels.get_dataset_labels(p)) & set(permission_labels)]
    start, rows = int(query.get("start") or 0), int(query.get("rows") or 20)
    self.count = len(visible)
    self.results = [
        {"id": p.id, "validated_data_dict": json.dumps(
            get_action("package_show")({"ignore_auth": True, "use_cache": False}, {"id": p.id}))}
        for p in visible[start:start + rows]]
    self.facets = {}
    self.raw_response = {}
    return {"results": self.results, "count": self.count}


_WORKER = """
import sys
from ckanext.s3multipart.tests.devsupport import no_solr
no_solr()
from ckan.cli.cli import ckan
ckan(["-c", sys.argv[1], "jobs", "worker", *sys.argv[2:]])
"""


def jobs_worker_command(ini: str, *options: str) -> list[str]:
    """`ckan -c INI jobs worker OPTIONS` (e.g. --burst) as a command, with `no_solr`: the
    background jobs' process has no Solr either."""
    return [sys.executable, "-c", _WORKER, ini, *options]
