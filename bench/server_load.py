"""What an upload costs CKAN and the page: requests, bytes and CPU per upload (and CKAN's
own upload field), the page's memory, credential issuing under load, part planning, and
the fixity job's reading speed.
Each returns its figures for bench/report.py; none asserts a target."""
from __future__ import annotations

import json
import os
import pathlib
import subprocess
import sys
import time
from typing import Any

import requests

from bench.harness import (
    BUCKET,
    CONCURRENCY,
    PART,
    ROOT,
    Browser,
    Ckan,
    GiB,
    MiB,
    Services,
    data_file,
    human,
    log,
    sha256_file,
)
from ckanext.s3multipart.tests import devsupport


class StreamedForm:
    """A multipart/form-data body read from disk as it is sent, with its length known,
    so requests streams it (with Content-Length) instead of loading 1 GiB into memory."""

    def __init__(self, fields: dict[str, str], path: pathlib.Path) -> None:
        self.boundary = "bench" + os.urandom(8).hex()
        head = "".join(f"--{self.boundary}\r\nContent-Disposition: form-data; "
                       f"name=\"{k}\"\r\n\r\n{v}\r\n" for k, v in fields.items())
        head += (f"--{self.boundary}\r\nContent-Disposition: form-data; name=\"upload\"; "
                 f"filename=\"{path.name}\"\r\nContent-Type: application/octet-stream\r\n\r\n")
        self.parts = [head.encode(), path, f"\r\n--{self.boundary}--\r\n".encode()]
        self.length = len(self.parts[0]) + path.stat().st_size + len(self.parts[2])
        self.content_type = f"multipart/form-data; boundary={self.boundary}"

    def __len__(self) -> int:
        return self.length

    def __iter__(self):
        yield self.parts[0]
        with open(self.parts[1], "rb") as source:
            while chunk := source.read(1 * MiB):
                yield chunk
        yield self.parts[2]


def ckan_work(services: Services, ckan: Ckan, browser: Browser, context: Any,
              big: int, small: int) -> dict[str, Any]:
    rows = []
    for size in (small, big):
        path = data_file(size)
        for mode in ("sts", "presigned"):
            ckan.settings(mode=mode, endpoint_url=services.store.url)
            cpu = time.process_time()
            result = browser.upload(context, path, save=True)
            cpu = time.process_time() - cpu
            upload = ckan.counter.between(result["started"], result["uploaded_at"])
            total = ckan.counter.between(result["started"], result["saved_at"])
            # The save POST and nothing after it (the page CKAN then shows is not upload work).
            save = [e for e in total if e["method"] == "POST" and e not in upload][:1]
            counted = upload + save
            rows.append({"size": size, "how": mode, "requests": len(counted),
                         "bytes_in": sum(e["in"] for e in counted),
                         "bytes_out": sum(e["out"] for e in counted),
                         "cpu": cpu, "seconds": result["seconds"],
                         "heap_peak": result["heap_peak"],
                         "paths": sorted({e["path"].rsplit("/", 1)[-1] for e in counted})})
            services.drop(result["key"])
            log(f"CKAN work {mode} {human(size)}: {rows[-1]['requests']} requests, "
                f"{human(rows[-1]['bytes_in'] + rows[-1]['bytes_out'])}")
        ckan.settings(mode="sts")
    # CKAN's own upload field: resource_create with the file, as the form posts it.
    path = data_file(big)
    form = StreamedForm({"package_id": ckan.dataset, "name": path.name}, path)
    began, cpu = time.time(), time.process_time()
    answer = requests.post(f"{ckan.url}/api/3/action/resource_create", data=form,
                           headers={"Authorization": ckan.token,
                                    "Content-Type": form.content_type}, timeout=3600)
    seconds, cpu = time.time() - began, time.process_time() - cpu
    answer.raise_for_status()
    counted = ckan.counter.settled(began, "resource_create")
    rows.append({"size": big, "how": "upload field", "requests": len(counted),
                 "bytes_in": sum(e["in"] for e in counted),
                 "bytes_out": sum(e["out"] for e in counted), "cpu": cpu,
                 "seconds": seconds, "paths": ["resource_create"]})
    if answer.json()["result"].get("s3_key"):
        services.drop(answer.json()["result"]["s3_key"])
    log(f"CKAN work upload field {human(big)}: {human(rows[-1]['bytes_in'])} in")
    return {"rows": rows}


def memory(services: Services, ckan: Ckan, browser: Browser, context: Any,
           size: int) -> dict[str, Any]:
    path = data_file(size)
    ckan.settings(mode="sts", endpoint_url=services.store.url, concurrency=CONCURRENCY)
    rss_before = services.store.rss()
    result = browser.upload(context, path)
    head = services.s3.head_object(Bucket=BUCKET, Key=result["key"])
    rss_after = services.store.rss()
    services.drop(result["key"])
    log(f"memory {human(size)}: heap peak {human(result['heap_peak'])}, "
        f"{size / result['seconds'] / MiB:.1f} MiB/s")
    return {"size": size, "heap_peak": result["heap_peak"], "seconds": result["seconds"],
            "stored": head["ContentLength"], "store_rss": (rss_before, rss_after)}


def credentials(services: Services, ckan: Ckan, clients: int,
                seconds: float) -> dict[str, Any]:
    ckan.settings(mode="sts", endpoint_url=services.store.url)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    out = subprocess.run([sys.executable, "-m", "bench.load", ckan.url, ckan.token,
                          ckan.dataset, str(clients), str(seconds)],
                         env=env, capture_output=True, text=True, check=True)
    data = json.loads(out.stdout)
    latencies = sorted(data["latencies"])

    def pct(q: float) -> float:
        return latencies[min(len(latencies) - 1, int(q * len(latencies)))] if latencies else 0

    result = {"clients": clients, "seconds": data["elapsed"], "calls": len(latencies),
              "errors": len(data["errors"]), "rps": len(latencies) / data["elapsed"],
              "p50": pct(0.50), "p95": pct(0.95), "p99": pct(0.99)}
    log(f"credentials: {result['calls']} calls, p50 {result['p50'] * 1000:.0f} ms, "
        f"p95 {result['p95'] * 1000:.0f} ms, {result['errors']} errors")
    return result


def planning() -> dict[str, Any]:
    from ckanext.s3multipart import parts
    sizes_ = {"1 GiB": GiB, "50 GiB": 50 * GiB, "1 TiB": 1024 * GiB, "5 TiB": 5 * 1024 * GiB}
    browser_plans = devsupport.in_node("plan.js", f"return input.map(s => m.planParts(s, {PART}))",
                                       list(sizes_.values()))
    rows = []
    for (label, size), js in zip(sizes_.items(), browser_plans, strict=True):
        part_size, count = parts.plan(size, PART)
        rows.append({"label": label, "part_size": part_size, "count": count,
                     "browser_agrees": (js["partSize"], js["partCount"]) == (part_size, count)})
    return {"rows": rows}


def verification(services: Services, ckan: Ckan, size: int) -> dict[str, Any]:
    """The fixity job on an object of `size`: `verification.run`, the function `ckan jobs
    worker` runs, timed in CKAN's process (the worker only adds its fork)."""
    import ckan.model as model
    from ckan.logic import get_action

    from ckanext.s3multipart import keys
    from ckanext.s3multipart import verification as fixity

    path = data_file(size)
    with ckan.app_context():
        package = model.Package.get(ckan.dataset)
        key = keys.new_upload_prefix(package.owner_org, package.id) + "verify.bin"
        log(f"verification: storing {human(size)}")
        services.s3.upload_file(str(path), BUCKET, key)
        site_user = get_action("get_site_user")({"ignore_auth": True}, {})["name"]
        resource = get_action("resource_create")({"user": site_user, "ignore_auth": True}, {
            "package_id": package.id, "url_type": "upload", "s3_key": key,
            "hash": sha256_file(path)})
        started = time.monotonic()
        status = fixity.run(resource["id"], key)
        seconds = time.monotonic() - started
    services.drop(key)
    return {"size": size, "seconds": seconds, "status": status, "speed": size / seconds / MiB}
