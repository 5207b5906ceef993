"""Development-only stand-in for Solr, used by bin/demo (never installed with the package).

CKAN lists datasets through Solr; this machine has none. Here the package index does
nothing and searches read PostgreSQL directly, honouring CKAN's permission labels, so the
home page, the dataset list and dataset pages render in the demo.
"""
from __future__ import annotations

import json
import re
from typing import Any

import ckan.lib.plugins as lib_plugins
import ckan.lib.search as search
import ckan.model as model
from ckan.lib.search.index import NoopSearchIndex
from ckan.lib.search.query import PackageSearchQuery
from ckan.logic import get_action


def _show(reference: str) -> dict[str, Any]:
    # package_show falls back to the database when the index cannot answer.
    raise search.SearchError("no Solr in the demo")


def _run(self: PackageSearchQuery, query: dict[str, Any],
         permission_labels: list[str] | None = None, **kwargs: Any) -> dict[str, Any]:
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


def install() -> None:
    search._INDICES["package"] = NoopSearchIndex
    search.show = _show
    PackageSearchQuery.run = _run
