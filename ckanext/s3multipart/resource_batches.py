"""Creating many resources of one dataset in one request, for the files of a batch.

What `resource_create` does for one resource, done for up to 100 resources
(folders.RESOURCES_PER_CALL) with one `package_update`: a folder of 1,000 files then costs
10 dataset saves, not 1,000 (each save rewrites every resource of the dataset). Each
resource's `s3_key` is checked and sized from the store as on `resource_create`
(resource_keys.check); one that fails is reported and left out while the others are
created; one whose key a resource of the dataset already has is reported as present, so a
batch sent again after a lost answer creates nothing twice. Other plugins see what they
see on `resource_create`: their IResourceController `before_resource_create` and
`after_resource_create` hooks run for each resource, and default views are made.
"""
from __future__ import annotations

from typing import Any

import ckan.model as model
import ckan.plugins as p
import ckan.plugins.toolkit as tk

from . import resource_keys, storage

CHECKED = "s3multipart_checked_keys"  # context: keys this request checked already


def create(context: dict[str, Any], package_id: str,
           resources: list[dict[str, Any]]) -> dict[str, Any]:
    """Create the resources that can be; {"resources": [...]} says, in the order given,
    {"s3_key", "name", "id", "state": "created" | "present"} or {"s3_key", "name",
    "error"} for each."""
    package = tk.get_action("package_show")(dict(context), {"id": package_id})
    present = _by_key(package)
    results: list[dict[str, Any]] = []
    candidates: list[tuple[dict[str, Any], dict[str, Any]]] = []  # (outcome, resource)
    listed: set[str] = set()
    # The store is asked (a HEAD per key) before the dataset is locked, not while it is.
    for resource in resources:
        key = resource["s3_key"]
        outcome: dict[str, Any] = {"s3_key": key, "name": resource.get("name") or ""}
        results.append(outcome)
        if key in listed:
            outcome["error"] = tk._("s3_key '{}' is listed twice in this request").format(key)
            continue
        listed.add(key)
        if key in present:
            outcome.update(state="present", id=present[key])
            continue
        resource = {**resource, "package_id": package["id"]}
        problem = _problem(package, resource)
        if problem:
            outcome["error"] = problem
        else:
            candidates.append((outcome, resource))
    if not candidates:
        return {"resources": results}
    # for_update locks the dataset's row until the commit: two batches (or a batch and a
    # resource_create) saving at once would otherwise each drop the other's resources.
    package = tk.get_action("package_show")({**context, "for_update": True},
                                            {"id": package["id"]})
    present = _by_key(package)
    new: list[dict[str, Any]] = []
    checked: set[str] = set()
    for outcome, resource in candidates:
        if resource["s3_key"] in present:  # made meanwhile by another request
            outcome.update(state="present", id=present[resource["s3_key"]])
            continue
        key = resource["s3_key"]
        for plugin in p.PluginImplementations(p.IResourceController):
            plugin.before_resource_create(context, resource)
        if resource.get("s3_key") == key:  # a hook that changed it leaves it to the save
            checked.add(key)
        new.append(resource)
        outcome["state"] = "created"
    if not new:
        return {"resources": results}
    package["resources"] = package.get("resources", []) + new
    save_context = {**context, "use_cache": False, CHECKED: checked}
    try:
        tk.get_action("package_update")(save_context, package)
    except tk.ValidationError as e:
        raise tk.ValidationError(_errors_of_new(e, len(package["resources"]) - len(new),
                                                len(new))) from None
    saved = tk.get_action("package_show")({**context, "use_cache": False},
                                          {"id": package["id"]})
    made = saved["resources"][-len(new):]
    created = [o for o in results if o.get("state") == "created"]
    for outcome, resource in zip(created, made, strict=True):
        outcome.update(id=resource["id"], name=resource["name"], s3_key=resource["s3_key"])
        tk.get_action("resource_create_default_resource_views")(
            {"model": model, "user": context.get("user"), "ignore_auth": True},
            {"resource": resource, "package": saved})
        for plugin in p.PluginImplementations(p.IResourceController):
            plugin.after_resource_create(context, resource)
    return {"resources": results}


def _by_key(package: dict[str, Any]) -> dict[str, str]:
    """{s3_key: resource id} of the dataset's resources."""
    return {r["s3_key"]: r["id"] for r in package.get("resources", []) if r.get("s3_key")}


def _problem(package: dict[str, Any], resource: dict[str, Any]) -> str | None:
    """Why this resource cannot be created (its key outside the dataset, no object, over
    max_size, a malformed hash), or None once it is checked and completed from the store."""
    try:
        resource_keys.check({"id": package["id"], "owner_org": package.get("owner_org"),
                             "resources": [resource]})
    except tk.ValidationError as e:
        return "; ".join(str(m) for ms in e.error_dict["resources"][0].values() for m in ms)
    except storage.StorageError as e:
        return str(e)
    return None


def _errors_of_new(error: tk.ValidationError, old: int, count: int) -> dict[str, Any]:
    """CKAN's errors of a save, with the resource errors of the new resources only (as
    `resources`, in the order of the request's new ones), not those of the whole dataset."""
    errors = dict(error.error_dict)
    if isinstance(errors.get("resources"), list):
        errors["resources"] = errors["resources"][old:old + count]
    return errors
