"""Uploads that meet trouble: a page reloaded half way (what resuming sends again) and
flaky networks (503s, resets, stalls). Each returns its figures for bench/report.py;
none asserts a target."""
from __future__ import annotations

import time
from typing import Any

from bench.harness import (
    BUCKET,
    CONCURRENCY,
    PART,
    Browser,
    Ckan,
    MiB,
    Services,
    data_file,
    log,
    sha256_file,
)


def resume(services: Services, ckan: Ckan, browser: Browser, context: Any,
           size: int) -> dict[str, Any]:
    path = data_file(size)
    part_count = -(-size // PART)
    ckan.settings(mode="sts", endpoint_url=services.proxy_url, concurrency=CONCURRENCY)
    services.proxy_config(bandwidth=8 * MiB)  # slow enough to catch parts mid-flight

    def half_done(page: Any) -> bool:
        return sum(p["outcome"] == "200" for p in services.proxy_parts()) >= part_count / 2

    paused = browser.upload(context, path, before=half_done)
    page = paused["page"]
    done_before = {p["part"] for p in services.proxy_parts() if p["outcome"] == "200"}
    reloaded_at = time.time()
    page.reload()
    # Stored by S3 when the page went away (answers that had not reached the page included).
    stored = {p["part"] for p in services.proxy_parts() if p["outcome"] == "200"}
    gone_at = time.time()
    services.proxy_config(keep=True, bandwidth=0)
    page.click("#resource-s3multipart-button")
    result = browser.upload(context, path, page_cdp=(page, paused["cdp"]))
    records = services.proxy_parts()
    sha_ok = services.sha256(result["key"]) == sha256_file(path)
    # Every body byte that reached the proxy, bodies cut short by the reload included.
    received = sum(p["received"] for p in records)
    uploads = {p["upload"] for p in records}
    resent_done = sum(1 for p in records if p["part"] in stored and p["start"] > gone_at)
    services.drop(result["key"])
    ckan.settings(endpoint_url=services.store.url)
    services.proxy_config()
    return {"size": size, "parts": part_count, "done_at_reload": len(done_before),
            "received": received, "overhead": received - size, "resent_done": resent_done,
            "stored_at_reload": len(stored),
            "upload_ids": len(uploads), "sha_ok": sha_ok,
            "reloaded_at": reloaded_at}


def faults(services: Services, ckan: Ckan, browser: Browser, size: int,
           runs: int) -> dict[str, Any]:
    path = data_file(size)
    expected = sha256_file(path)
    timeout_ms = 6000
    context = browser.context(xhr_timeout_ms=timeout_ms)
    ckan.settings(endpoint_url=services.proxy_url, concurrency=CONCURRENCY)
    totals = {"completed": 0, "sha_ok": 0, "part_puts": 0, "503": 0, "reset": 0, "stall": 0,
              "reset_reused": 0, "retries": 0, "left": 0, "failed": []}
    for i in range(runs):
        mode = "sts" if i % 2 == 0 else "presigned"
        ckan.settings(mode=mode)
        services.proxy_config(fault_rate=0.2, stall_seconds=20, seed=100 + i)
        try:
            result = browser.upload(context, path, timeout=900)
        except RuntimeError as error:
            totals["failed"].append(f"run {i + 1} ({mode}): {error}")
            log(str(error))
            continue
        parts_ = services.proxy_parts()
        totals["completed"] += 1
        totals["part_puts"] += len(parts_)
        for kind in ("503", "reset", "stall"):
            totals[kind] += sum(p["outcome"] == kind for p in parts_)
        totals["reset_reused"] += sum(p["outcome"] == "reset" and p["reused"] for p in parts_)
        totals["retries"] += result["retries"]
        totals["sha_ok"] += services.sha256(result["key"]) == expected
        prefix = result["key"].rsplit("/", 1)[0] + "/"
        totals["left"] += len(services.s3.list_multipart_uploads(
            Bucket=BUCKET, Prefix=prefix).get("Uploads", []))
        services.drop(result["key"])
        log(f"fault run {i + 1}/{runs} ({mode}): {result['seconds']:.1f} s, "
            f"{len(parts_)} part PUTs, {result['retries']} retries")
    totals["left_on_bucket"] = services.uploads_left()
    totals.update(size=size, runs=runs, timeout_ms=timeout_ms)
    services.proxy_config()
    ckan.settings(endpoint_url=services.store.url, mode="sts")
    context.close()
    return totals
