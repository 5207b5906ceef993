"""The tables of bin/bench: each figure beside its target, marked met or missed; the rows
measured on every store side by side."""
from __future__ import annotations

from typing import Any

from bench import stores
from bench.harness import (
    CONCURRENCY,
    PART,
    MiB,
    human,
)

# The table ---------------------------------------------------------------------------------

def met(ok: bool) -> str:
    return "**met**" if ok else "**missed**"


# Rows measured on every store: (number, benchmark, measured, target, verdict).
Row = tuple[str, str, str, str, str]


def throughput_row(t: dict[str, Any]) -> Row:
    m = t["median"]
    return ("1", f"Throughput, {human(t['size'])}, 4 x 5 MiB, straight to the store (median of "
            f"{len(t['runs']['boto3'])})",
            f"browser STS {m['sts']:.1f} MiB/s, presigned {m['presigned']:.1f} MiB/s; boto3 "
            f"TransferManager {m['boto3']:.1f} MiB/s; ratio **{t['ratio_sts']:.2f}** (STS), "
            f"{t['ratio_presigned']:.2f} (presigned). The browser's own ceiling, plain XHR PUTs "
            f"of the same parts: {m['raw']:.1f} MiB/s ({t['ratio_raw']:.2f} of boto3); the "
            f"uploader reaches {t['sts_of_raw']:.2f} of it",
            ">= 0.9 of boto3", met(t["ratio_sts"] >= 0.9))


def digests_row(t: dict[str, Any]) -> Row:
    m = t["median"]
    return ("1d", f"Throughput with per-part Content-MD5 and the file's SHA-256 (hashed in a "
            f"Web Worker) against the same uploader without them, {human(t['size'])}, same "
            f"run (median of {len(t['runs']['sts'])})",
            f"STS {m['sts']:.1f} vs {m['sts_plain']:.1f} MiB/s: **{t['digests_sts']:.2f}**; "
            f"presigned {m['presigned']:.1f} vs {m['presigned_plain']:.1f} MiB/s: "
            f"**{t['digests_presigned']:.2f}**", ">= 0.9 of it",
            met(min(t["digests_sts"], t["digests_presigned"]) >= 0.9))


def wan_rows(w: dict[str, Any]) -> list[Row]:
    c4, b = w["speeds"][CONCURRENCY], w["boto3"]
    whole, wire = c4["end_to_end"] / b["end_to_end"], c4["wire"] / b["wire"]
    rows = [("1b", f"Throughput through the WAN proxy ({w['latency'] * 1000:.0f} ms per "
             f"request, {human(w['bandwidth'])}/s per connection), {human(w['size'])}, "
             f"4 x 5 MiB (median of {w['repeat']})",
             f"end to end: browser STS {c4['end_to_end']:.1f} MiB/s, boto3 TransferManager "
             f"{b['end_to_end']:.1f} MiB/s, ratio **{whole:.2f}**; on the wire: "
             f"{c4['wire']:.1f} vs {b['wire']:.1f} MiB/s, ratio **{wire:.2f}**",
             ">= 0.9 of boto3",
             f"{met(whole >= 0.9)} end to end, {met(wire >= 0.9)} on the wire")]
    if "without_digests" in w:  # the digests' cost where the link, not the CPU, limits
        plain = w["without_digests"]
        ratio = c4["end_to_end"] / plain["end_to_end"]
        rows.append(("1e", "Throughput with per-part Content-MD5 and the file's SHA-256 "
                     "against the same uploader without them, through the WAN proxy (as 1b; "
                     "STS, same run)",
                     f"end to end {c4['end_to_end']:.1f} vs {plain['end_to_end']:.1f} MiB/s: "
                     f"**{ratio:.2f}**; on the wire {c4['wire']:.1f} vs "
                     f"{plain['wire']:.1f} MiB/s: {c4['wire'] / plain['wire']:.2f}",
                     ">= 0.9 of it", met(ratio >= 0.9)))
    on_wire = ", ".join(f"c{c} {s['wire']:.1f} MiB/s ({w['speedup'][c]['wire']:.1f}x)"
                        for c, s in w["speeds"].items())
    end_to_end = ", ".join(f"c{c} {w['speedup'][c]['end_to_end']:.1f}x" for c in w["speeds"])
    x4 = w["speedup"][CONCURRENCY]
    rows.append(("2", f"WAN: {w['latency'] * 1000:.0f} ms per request, "
                 f"{human(w['bandwidth'])}/s per connection, {human(w['size'])}",
                 f"on the wire: single PUT {w['single']['wire']:.1f} MiB/s; {on_wire}. End to "
                 f"end, the store's CompleteMultipartUpload included: single PUT "
                 f"{w['single']['end_to_end']:.1f} MiB/s; {end_to_end}", "c4 >= 3x single",
                 f"{met(x4['wire'] >= 3)} on the wire, {met(x4['end_to_end'] >= 3)} end to end"))
    return rows


def faults_row(f: dict[str, Any]) -> Row:
    ok = f["completed"] == f["runs"] and f["sha_ok"] == f["runs"] and f["left_on_bucket"] == 0
    # Failures the page can see; a browser re-sends by itself a request whose reused
    # keep-alive connection is reset, so those never reach the uploader's retry loop.
    seen = f["503"] + f["stall"] + f["reset"] - f["reset_reused"]
    return ("F", f"Fault runs: {f['runs']} x {human(f['size'])}, 20% of part PUTs fail "
            "(alternating STS / presigned)",
            f"{f['completed']}/{f['runs']} completed, {f['sha_ok']}/{f['runs']} sha256 match, "
            f"{f['left_on_bucket']} multipart uploads left; {f['part_puts']} part PUTs, "
            f"injected {f['503']} x 503, {f['reset']} x reset ({f['reset_reused']} on a reused "
            f"connection), {f['stall']} x stall; {f['retries']} uploader retries; 503s, stalls "
            f"and resets of new connections: {seen} ("
            + ("equal: Chromium re-sent the others itself" if seen == f["retries"]
               else "not equal") + ")",
            "all complete and match, none left", met(ok))


def verification_row(v: dict[str, Any]) -> Row:
    return ("V", f"Fixity job (`verification.run`, as `ckan jobs worker` runs it), "
            f"{human(v['size'])} object read back and hashed",
            f"{v['speed']:.1f} MiB/s ({v['seconds']:.1f} s), {v['status']}",
            "(none set; reported)", "-" if v["status"] == "verified" else met(False))


def store_rows(r: dict[str, Any]) -> list[Row]:
    rows = []
    if r.get("throughput"):
        rows.append(throughput_row(r["throughput"]))
        rows.append(digests_row(r["throughput"]))
    if r.get("wan"):
        rows += wan_rows(r["wan"])
    if r.get("verification"):
        rows.append(verification_row(r["verification"]))
    if r.get("faults"):
        rows.append(faults_row(r["faults"]))
    return rows


def batch_rows(r: dict[str, Any]) -> list[str]:
    """Rows 8 (many files against one of their total size, the issue's 3x and 1.2x),
    8c (CKAN's and STS's work per file) and 8d (10,000 files queued)."""
    out = []
    rows = (r.get("batches") or {}).get("rows", [])
    for number, x in zip(("8", "8b"), rows, strict=False):
        target = 3.0 if x["each"] <= MiB else 1.2
        out.append(f"| {number} | {x['count']:,} files of {human(x['each'])} through Upload "
                   f"files (resources made) against one file of "
                   f"{human(x['count'] * x['each'])} through the Large file widget (saved), "
                   f"same run | {x['seconds']:.1f} s vs {x['single_seconds']:.1f} s: "
                   f"**{x['ratio']:.2f}x** | <= {target}x | {met(x['ratio'] <= target)} |")
    if rows:
        cells = "; ".join(f"{x['count']:,} x {human(x['each'])}: {x['requests']} CKAN "
                          f"requests ({x['requests'] / x['count']:.2f} a file), "
                          f"{x['sts_calls']} STS calls ({x['sts_calls'] / x['count']:.3f} a "
                          f"file)" for x in rows)
        out.append(f"| 8c | CKAN requests and STS calls (s3multipart_credentials) per file "
                   f"in a batch | {cells} | (none set; reported) | - |")
    q = r.get("queued")
    if q:
        ok = q["longest_task_ms"] <= 200 and q["heap_peak"] < 100 * MiB
        out.append(f"| 8d | {q['count']:,} files queued, uploading for "
                   f"{q['seconds']:.0f} s then cancelled (Long Tasks API; heap as row 4) | "
                   f"longest main-thread task while they upload {q['longest_task_ms']:.0f} "
                   f"ms (choosing them, Chromium's own work on the FileList: "
                   f"{q['choosing_task_ms']:.0f} ms; the Cancel after: "
                   f"{q.get('cancel_task_ms', 0):.0f} ms); heap {human(q['heap_before'])} "
                   f"before, peak {human(q['heap_peak'])}; {q['states']} | no task over "
                   f"200 ms, heap < 100 MiB | {met(ok)} |")
    return out


def table(r: dict[str, Any], meta: dict[str, str]) -> str:
    out = ["# ckanext-s3multipart benchmarks", "",
           ", ".join(f"{k}: {v}" for k, v in meta.items()), ""]
    measured = {kind: store_rows(rows) for kind, rows in r["stores"].items()}
    if len(measured) > 1:  # side by side, one column a store
        names = [stores.NAMES[kind] for kind in measured]
        out += ["Rows 1, 1d, 1b, 1e, 2, V and F on each store; rows 3 to 7 and 8d on "
                f"{r['main_store']}; rows 8 to 8c on {stores.NAMES['rgw']}.", "",
                "| # | benchmark | " + " | ".join(names) + " | target |",
                "|---|---|" + "---|" * len(names) + "---|"]
        # Keyed by store: a benchmark that failed on one store leaves its cell empty.
        by_number: dict[str, dict[str, Row]] = {}
        for kind, rows in measured.items():
            for row in rows:
                by_number.setdefault(row[0], {})[kind] = row
        for number, row_of in by_number.items():
            first = next(iter(row_of.values()))
            cells = " | ".join(f"{row_of[kind][2]} — {row_of[kind][4]}" if kind in row_of
                               else "(no figure: see the notes)" for kind in measured)
            out.append(f"| {number} | {first[1]} | {cells} | {first[3]} |")
        out += ["", f"On {r['main_store']}:", ""]
    out += ["| # | benchmark | measured | target | |", "|---|---|---|---|---|"]
    late: list[Row] = []  # the fault runs come last, as they run last
    if len(measured) == 1:
        (rows,) = measured.values()
        late = [row for row in rows if row[0] == "F"]
        out += [f"| {n} | {title} | {cell} | {target} | {verdict} |"
                for n, title, cell, target, verdict in rows if n != "F"]
    c = r.get("ckan")
    if c:
        rows = c["rows"]
        sts = [x for x in rows if x["how"] == "sts"]
        big = max(x["size"] for x in rows)
        cells = "; ".join(f"{x['how']} {human(x['size'])}: {x['requests']} req, "
                          f"{human(x['bytes_in'] + x['bytes_out'])}" for x in rows)
        sts_big = next(x for x in sts if x["size"] == big)
        flat = len({x["requests"] for x in sts}) == 1
        ok = sts_big["bytes_in"] + sts_big["bytes_out"] < 100 * 1024 and flat
        out.append(f"| 3 | Work on CKAN per upload (requests and bytes in + out) | {cells} | "
                   f"STS: < 100 KiB, requests flat in file size | {met(ok)} |")
    mem = r.get("memory")
    if mem:
        cells = ", ".join(f"{human(s)}: {human(h)}" for s, h in mem)
        heaps = [h for _, h in mem]
        complete = r.get("memory_complete", True)
        if not complete:
            cells += " (the large-file run failed)"
        ok = complete and max(heaps) < 100 * MiB and max(heaps) - min(heaps) < 10 * MiB
        out.append("| 4 | Browser peak JS heap, the page's and the hashing worker's (CDP "
                   "JSHeapUsedSize and the worker's Runtime.getHeapUsage, sampled every "
                   f"0.25 s) | "
                   f"{cells} | flat, < 100 MiB | {met(ok)} |")
    s = r.get("resume")
    if s:
        out.append(f"| 5 | Resume: reload asked at {s['done_at_reload']} of {s['parts']} parts "
                   f"stored ({s['stored_at_reload']} once the old page was gone), "
                   f"{human(s['size'])} | {human(max(0, s['overhead']))} sent twice; "
                   f"{s['resent_done']} stored parts re-sent; sha256 "
                   f"{'ok' if s['sha_ok'] else 'MISMATCH'} | <= 4 x 5 MiB = 20 MiB | "
                   f"{met(s['overhead'] <= CONCURRENCY * PART and s['sha_ok'])} |")
    k = r.get("credentials")
    if k:
        out.append(f"| 6 | s3multipart_credentials, {k['clients']} clients for "
                   f"{k['seconds']:.0f} s | p50 {k['p50'] * 1000:.0f} ms, p95 "
                   f"{k['p95'] * 1000:.0f} ms, p99 {k['p99'] * 1000:.0f} ms; "
                   f"{k['rps']:.1f} calls/s, {k['errors']} errors | (none set; reported) | - |")
    p = r.get("planning")
    if p:
        cells = "; ".join(f"{x['label']}: {human(x['part_size'])} x {x['count']}"
                          for x in p["rows"])
        ok = all(x["count"] <= 10_000 and x["browser_agrees"] for x in p["rows"])
        out.append(f"| 7 | Part planning (server and browser agree: "
                   f"{all(x['browser_agrees'] for x in p['rows'])}) | {cells} | "
                   f"<= 10,000 parts | {met(ok)} |")
    out += batch_rows(r)
    out += [f"| {n} | {title} | {cell} | {target} | {verdict} |"
            for n, title, cell, target, verdict in late]
    if c:
        out += ["", "Work on CKAN, in detail (the save of the resource form included; for the "
                "upload field, the one resource_create POST):", "",
                "| upload | file | requests | bytes in | bytes out | CKAN CPU s | upload s | "
                "actions |", "|---|---|---|---|---|---|---|---|"]
        for x in c["rows"]:
            out.append(f"| {x['how']} | {human(x['size'])} | {x['requests']} | "
                       f"{human(x['bytes_in'])} | {human(x['bytes_out'])} | {x['cpu']:.1f} | "
                       f"{x['seconds']:.1f} | {', '.join(x['paths'])} |")
    for note in r.get("notes", []):
        out.append(f"\n{note}")
    return "\n".join(out) + "\n"


