"""Many files at once: a folder through the "Upload files" page against one file of the
same total size through the Large file widget (saved), in the same run and dataset of its
own; CKAN requests and STS calls (a `s3multipart_credentials` call is one AssumeRole) per
file; and the page with 10,000 files queued: its peak JS heap and its longest main-thread
task while they upload. Each returns its figures for bench/report.py; none asserts one."""
from __future__ import annotations

import os
import pathlib
import time
from typing import Any

from playwright.sync_api import TimeoutError as PlaywrightTimeout

from bench.harness import HERE, Browser, Ckan, MiB, Services, data_file, human, log

FOLDER_INPUT = '[data-module="s3multipart-batch"] input[webkitdirectory]'
FINAL = """(count) => { const rows = document.querySelectorAll('[data-s3multipart-file]');
  return rows.length === count && [...rows].every(
    (r) => ['done', 'skipped', 'failed'].includes(r.dataset.state)) }"""
STATES = """() => [...document.querySelectorAll('[data-s3multipart-file]')].reduce(
  (n, r) => ({ ...n, [r.dataset.state]: (n[r.dataset.state] || 0) + 1 }), {})"""
# The page's main-thread tasks over 50 ms (the Long Tasks API), kept from the start.
LONG_TASKS = """(() => {
  window.__longTasks = []
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) window.__longTasks.push([e.startTime, e.duration])
  }).observe({ type: 'longtask', buffered: true })
})()"""


# A publisher's folder holds files of their own; only folders too large for the disk as
# copies (row 8b's 6.25 GiB) are hard links.
COPIES_UP_TO = 2 * 1024**3


def folder_of(count: int, each: int) -> pathlib.Path:
    """A folder of `count` files of `each` bytes of random bytes, 100 to a subfolder. Up to
    COPIES_UP_TO in all each file is its own; above, they are hard links to one file (the
    disk holds one; the browser reads each as a file of its own)."""
    source = data_file(each)
    kind = "files" if count * each <= COPIES_UP_TO else "links"
    folder = (HERE / "run" / "data" / f"folder-{count}x{human(each).replace(' ', '')}-{kind}"
              / "batch")
    for n in range(count):
        path = folder / f"{n // 100:03}" / f"file-{n:05}.bin"
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            if kind == "files":
                path.write_bytes(os.urandom(each))
            else:
                os.link(source, path)
    return folder


def _dataset(ckan: Ckan) -> str:
    """A fresh dataset, so each row starts from an empty one (a save rewrites them all)."""
    from ckan.logic import get_action
    with ckan.app_context():
        site_user = get_action("get_site_user")({"ignore_auth": True}, {})["name"]
        name = f"bench-batch-{time.time_ns()}"
        get_action("package_create")({"user": site_user, "ignore_auth": True},
                                     {"name": name, "owner_org": "bench-org"})
    return name


def upload_folder(browser: Browser, context: Any, dataset: str, folder: pathlib.Path,
                  count: int, timeout: float, stop_after: float | None = None) -> dict[str, Any]:
    """Choose `folder` on the dataset's Upload files page and wait until every file is
    done (or, with `stop_after`, that many seconds, then cancel); the seconds, the peak JS
    heap (page and workers, every 0.25 s), the longest main-thread task and the states."""
    page = context.new_page()
    page.set_default_timeout(120_000)
    page.add_init_script(LONG_TASKS)
    cdp = context.new_cdp_session(page)
    cdp.send("Performance.enable")
    page.goto(f"/dataset/{dataset}/upload-files")
    page.wait_for_selector('[data-module="s3multipart-batch"].s3multipart-ready')
    peak = heap_before = browser.heap(cdp)
    started = cancelled = time.time()
    page.locator(FOLDER_INPUT).set_input_files(str(folder))
    chosen = time.time()
    while True:
        try:
            page.wait_for_function(FINAL, arg=count, polling=100, timeout=250)
            break
        except PlaywrightTimeout:
            pass
        peak = max(peak, browser.heap(cdp))
        elapsed = time.time() - started
        if elapsed // 30 > (elapsed - 0.35) // 30:  # every 30 s: where the batch stands
            log(f"  {elapsed:.0f} s: {page.evaluate(STATES)}; "
                f"{page.locator('.s3multipart-summary').inner_text()}")
        if stop_after is not None and elapsed > stop_after:
            cancelled = time.time()
            page.get_by_role("button", name="Cancel").click()
            time.sleep(5)
            break
        if elapsed > timeout:
            raise RuntimeError(f"{count} files not uploaded after {timeout:.0f} s: "
                               f"{page.evaluate(STATES)}")
    seconds = time.time() - started
    states = page.evaluate(STATES)
    # [start (ms since the page began), duration]; the page began before `started`.
    tasks = page.evaluate("window.__longTasks")
    origin = page.evaluate("performance.timeOrigin") / 1000
    # The first task after choosing holds Chromium's own work on the chosen files (their
    # FileList: about 0.5 ms a file, measured on a bare page), which no page code can
    # split; the rest is the page's while the files upload.
    at = [(origin + t / 1000 - started, d) for t, d in tasks]
    choosing = [d for t, d in at if t <= chosen - started + 0.05]
    uploading_until = (cancelled if cancelled > started else time.time()) - started
    longest = max((d for t, d in at if chosen - started + 0.05 < t <= uploading_until),
                  default=0)
    after_cancel = max((d for t, d in at if t > uploading_until), default=0)
    slow = [(round(t, 1), round(d)) for t, d in at if d > 200]
    page.close()
    return {"seconds": seconds, "choose_seconds": chosen - started, "heap_peak": peak,
            "heap_before": heap_before, "states": states, "longest_task_ms": longest,
            "choosing_task_ms": max(choosing, default=0), "cancel_task_ms": after_cancel,
            "slow_tasks": slow,  # (seconds after choosing began, ms) of those over 200 ms
            "started": started, "ended": started + seconds}


def many_files(services: Services, ckan: Ckan, browser: Browser, context: Any,
               cases: list[tuple[int, int]]) -> dict[str, Any]:
    """Each (count, size) folder against one file of count x size, taking turns."""
    ckan.settings(mode="sts", endpoint_url=services.store.url)
    rows = []
    for count, each in cases:
        folder = folder_of(count, each)
        single = data_file(count * each)
        dataset = _dataset(ckan)
        batch = upload_folder(browser, context, dataset, folder, count,
                              timeout=300 + count * each / MiB)
        if batch["states"].get("done") != count:
            raise RuntimeError(f"{count} x {human(each)}: {batch['states']}")
        counted = ckan.counter.between(batch["started"], batch["ended"])
        sts = [e for e in counted if e["path"].endswith("/s3multipart_credentials")]
        kept, ckan.dataset = ckan.dataset, _dataset(ckan)  # the widget's dataset, for now
        try:
            one = browser.upload(context, single, save=True)
        finally:
            ckan.dataset = kept
        one_seconds = one["saved_at"] - one["started"]
        counted_one = ckan.counter.between(one["started"], one["saved_at"])
        services.drop(one["key"])
        rows.append({"count": count, "each": each, "seconds": batch["seconds"],
                     "single_seconds": one_seconds, "ratio": batch["seconds"] / one_seconds,
                     "requests": len(counted), "sts_calls": len(sts),
                     "single_requests": len(counted_one),
                     "paths": sorted({e["path"].rsplit("/", 1)[-1] for e in counted}),
                     "heap_peak": batch["heap_peak"]})
        log(f"many files {count} x {human(each)}: {batch['seconds']:.1f} s against "
            f"{one_seconds:.1f} s for one file ({rows[-1]['ratio']:.2f}x); "
            f"{len(counted)} CKAN requests, {len(sts)} STS calls")
    return {"rows": rows}


def queued(services: Services, ckan: Ckan, browser: Browser, context: Any, count: int,
           seconds: float) -> dict[str, Any]:
    """`count` files of 1 KiB queued at once, uploading for `seconds`, then cancelled."""
    ckan.settings(mode="sts", endpoint_url=services.store.url)
    folder = folder_of(count, 1024)
    result = upload_folder(browser, context, _dataset(ckan), folder, count,
                           timeout=seconds + 600, stop_after=seconds)
    log(f"{count} files queued: heap {human(result['heap_before'])} before, peak "
        f"{human(result['heap_peak'])}; longest task {result['longest_task_ms']:.0f} ms "
        f"(over 200 ms at {result['slow_tasks']} s, ms); "
        f"{result['states']}")
    return {"count": count, **result}
