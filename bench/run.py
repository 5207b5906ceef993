"""bin/bench's program: which benchmarks run on which store, in what order, and where the
tables go. The parts have homes of their own: bench/stores.py (moto, Ceph RGW),
bench/harness.py (the proxy, CKAN, Chromium), the benchmarks in bench/speed.py (throughput,
WAN), bench/server_load.py (CKAN's work, memory, credentials, planning) and
bench/robustness.py (resume, faults), bench/batches.py (many files), bench/report.py
(the tables), bench/netproxy.py
(latency, bandwidth caps, faults).

Real parts only: Debian's Chromium driven by Playwright uploads through the resource form
of CKAN served over HTTP (PostgreSQL, Redis, the plugin), to a store's S3 + STS in
processes of their own, directly or through the bench proxy. Throughput, WAN and fault
runs are measured on each store; the rest on the first. Nothing here asserts a timing:
each figure is set beside its target and marked met or not.

Run through bin/bench (which sets up services, the venv and the database first).
BENCH_QUICK=1 shrinks every size (a smoke run of the program, not figures to publish).
"""
from __future__ import annotations

import argparse
import datetime
import json
import os
import pathlib
import platform
import time
from typing import Any

from bench import batches, report, robustness, server_load, speed, stores
from bench.harness import (
    HERE,
    QUICK,
    Browser,
    Ckan,
    GiB,
    MiB,
    Services,
    human,
    log,
)


def sizes() -> dict[str, int]:
    if QUICK:
        return {"throughput": 32 * MiB, "wan": 16 * MiB, "ckan_small": 16 * MiB,
                "ckan": 64 * MiB, "memory_big": 128 * MiB, "resume": 64 * MiB,
                "fault": 16 * MiB, "fault_runs": 4, "repeat": 1, "load_seconds": 5,
                "verification": 64 * MiB, "batches": [(50, 1 * MiB), (5, 16 * MiB)],
                "queued": 1000, "queued_seconds": 10}
    return {"throughput": 256 * MiB, "wan": 256 * MiB, "ckan_small": 64 * MiB,
            "ckan": 1 * GiB, "memory_big": 4 * GiB, "resume": 128 * MiB,
            "fault": 64 * MiB, "fault_runs": 20, "repeat": 5, "load_seconds": 30,
            "verification": 1 * GiB, "batches": [(1000, 1 * MiB), (100, 64 * MiB)],
            "queued": 10_000, "queued_seconds": 30}


def versions() -> dict[str, str]:
    import importlib.metadata as md
    memory = 0
    with open("/proc/meminfo") as info:
        for line in info:
            if line.startswith("MemTotal:"):
                memory = int(line.split()[1]) * 1024
    return {"date": datetime.datetime.now().strftime("%Y-%m-%d %H:%M"),
            "machine": f"{os.cpu_count()} cores, {human(memory)} RAM, {platform.machine()}",
            "CKAN": md.version("ckan"), "Python": platform.python_version()}


# Measured on every store; the rest on the first store asked for (moto by default), but
# the many-files rows on Ceph RGW when it is asked for: their 6.25 GiB single file is more
# than moto can hold while completing it (about 2.7 x the object).
ON_EVERY_STORE = ("throughput", "wan", "verification", "faults")
ON_RGW = ("batches",)
BENCHMARKS = ("throughput", "wan", "ckan", "memory", "resume", "credentials", "planning",
              "batches", "queued", "verification", "faults")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--ini", required=True)
    parser.add_argument("--out", default=str(HERE / "results.md"))
    parser.add_argument("--only", default="", help="comma-separated: " + ",".join(BENCHMARKS))
    parser.add_argument("--stores", default="moto,rgw",
                        help="comma-separated: moto, rgw (Ceph RGW); rows "
                        + ", ".join(ON_EVERY_STORE) + " run on each, the rest on the first")
    args = parser.parse_args()
    only = set(filter(None, args.only.split(",")))
    kinds = [k for k in args.stores.split(",") if k]
    unknown = (only - set(BENCHMARKS)) | (set(kinds) - set(stores.NAMES))
    if unknown or not kinds:
        parser.error(f"unknown: {', '.join(sorted(unknown)) or 'no store'}")
    size = sizes()
    began = time.time()
    results: dict[str, Any] = {"notes": [], "stores": {}, "main_store": stores.NAMES[kinds[0]]}
    failures: list[str] = []
    meta = versions()
    if not only or "planning" in only:
        results["planning"] = server_load.planning()
    ckan = Ckan(args.ini)
    browser = Browser(ckan)
    meta["Chromium"] = browser.version
    try:
        for kind in kinds:
            log(f"starting {stores.NAMES[kind]}")
            try:
                store = stores.start(kind)
            except Exception as error:  # noqa: BLE001 - the other store's figures still count
                log(f"{stores.NAMES[kind]} did not start: {error}")
                failures.append(f"{stores.NAMES[kind]} did not start: {error}")
                continue
            meta[store.name] = store.version
            try:
                services = Services(store)
            except BaseException:
                store.stop()
                raise
            try:
                ckan.use(services)
                home = "rgw" if "rgw" in kinds else kinds[0]
                results["stores"][kind] = run_store(
                    services, ckan, browser, size, results, failures,
                    wanted=lambda name, kind=kind, home=home: (
                        (not only or name in only)
                        and (kind == home if name in ON_RGW
                             else kind == kinds[0] or name in ON_EVERY_STORE)))
            finally:
                services.stop()
        for failure in failures:
            results["notes"].append(f"FAILED (no figure): {failure}")
    finally:
        browser.stop()
        ckan.stop()
    results["notes"].append(
        f"bin/bench took {(time.time() - began) / 60:.1f} min"
        + (" (BENCH_QUICK=1: reduced sizes)" if QUICK else "") + ".")
    text = report.table(results, meta)
    print(text)
    pathlib.Path(args.out).write_text(text)
    (HERE / "run").mkdir(exist_ok=True)
    (HERE / "run" / "results.json").write_text(json.dumps(results, indent=1, default=str))


def run_store(services: Services, ckan: Ckan, browser: Browser, size: dict[str, int],
              results: dict[str, Any], failures: list[str], wanted: Any) -> dict[str, Any]:
    """The benchmarks `wanted` on one store: rows for every store are returned, the others
    go into `results`. A benchmark that fails is reported in the table; the others still run."""
    store = services.store
    mine: dict[str, Any] = {}
    context = browser.context()
    heaps: list[tuple[int, int]] = []

    def attempt(name: str, work: Any) -> Any:
        if not wanted(name):
            return None
        try:
            return work()
        except Exception as error:  # noqa: BLE001 - reported, never hidden
            log(f"{name} on {store.name} failed: {error}")
            failures.append(f"{name} on {store.name}: {error}")
            return None

    if t := attempt("throughput", lambda: speed.throughput(
            services, ckan, browser, context, size["throughput"], size["repeat"])):
        mine["throughput"] = t
        heaps.append((size["throughput"], t["heap_peak"]))
    # The example: 50 ms per request, 8 MiB/s per connection.
    if w := attempt("wan", lambda: speed.wan(services, ckan, browser, context, size["wan"],
                                             8 * MiB, min(3, size["repeat"]))):
        mine["wan"] = w
    if c := attempt("ckan", lambda: server_load.ckan_work(services, ckan, browser, context,
                                                          size["ckan"], size["ckan_small"])):
        results["ckan"] = c
        heaps.append((size["ckan"], max(x["heap_peak"] for x in c["rows"]
                                        if x["how"] == "sts" and x["size"] == size["ckan"])))
    if big := attempt("memory", lambda: server_load.memory(services, ckan, browser, context,
                                                           size["memory_big"])):
        heaps.append((big["size"], big["heap_peak"]))
        before, after = big["store_rss"]
        results["notes"].append(
            f"Memory run {human(big['size'])}: {big['size'] / big['seconds'] / MiB:.1f} MiB/s; "
            f"{store.name}'s resident memory {human(before)} before, {human(after)} after "
            "completing.")
    if heaps and wanted("memory"):
        results["memory"] = sorted(heaps)
        # Without the large file's run the heap is not shown flat in file size.
        results["memory_complete"] = big is not None
    if r := attempt("resume", lambda: robustness.resume(services, ckan, browser, context,
                                                        size["resume"])):
        results["resume"] = r
    if k := attempt("credentials", lambda: server_load.credentials(services, ckan, 20,
                                                                   size["load_seconds"])):
        results["credentials"] = k
    if b := attempt("batches", lambda: batches.many_files(services, ckan, browser, context,
                                                          size["batches"])):
        results["batches"] = b
    if q := attempt("queued", lambda: batches.queued(services, ckan, browser, context,
                                                      size["queued"], size["queued_seconds"])):
        results["queued"] = q
    context.close()
    if v := attempt("verification", lambda: server_load.verification(
            services, ckan, size["verification"])):
        mine["verification"] = v
    if f := attempt("faults", lambda: robustness.faults(services, ckan, browser, size["fault"],
                                                        size["fault_runs"])):
        mine["faults"] = f
        if f["failed"]:
            results["notes"].append(f"Fault runs on {store.name} that did not complete: "
                                    + "; ".join(f["failed"]))
    return mine


if __name__ == "__main__":
    main()
