"""`ckan s3multipart verify`: fixity audits, the stored objects' SHA-256 against their
resources' `hash`, queued for `ckan jobs worker` or run here and now."""
from __future__ import annotations

import time

import ckan.model as model
import click

from .. import verification
from ..failures import Failure
from ..sizes import human as human_size
from .output import friendly, plural


@click.command(short_help="Check stored objects against their resources' SHA-256.")
@click.option("--dataset", metavar="NAME", help="Only this dataset (name or id).")
@click.option("--all", "everything", is_flag=True,
              help="Also the resources verified already (a fixity audit).")
@click.option("--now", is_flag=True,
              help="Check here, one after the other, instead of queueing background jobs; "
                   "exit with status 1 if any object does not match.")
@friendly
def verify(dataset: str | None, everything: bool, now: bool) -> None:
    """Read each S3 resource's object back from the store, compute its SHA-256 and record
    whether it is the resource's `hash` (shown on the resource page and in resource_show as
    s3_verification). By default only resources not verified yet; resources without a hash
    get the object's."""
    package = None
    if dataset:
        package = model.Package.get(dataset)
        if package is None or package.state not in ("active", "draft"):
            raise Failure(f"no dataset '{dataset}'", "give its name or id")
    resources = verification.s3_resources(package)
    items = [verification.due(r) for r in resources]
    known = verification.records(i.resource_id for i in items)
    todo = items if everything else [
        i for i in items if not verification.is_verified(i, known.get(i.resource_id))]
    skipped = len(items) - len(todo)
    names = {r.id: f"{r.package.name}/{r.name or r.id}" for r in resources}
    if not now:
        queued = sum(verification.enqueue(item) for item in todo)
        if queued < len(todo):
            raise Failure(f"queued {queued} of {len(todo)} checks; the others could not be "
                          "queued (see the log)", "is Redis (ckan.redis.url) reachable?")
        click.echo(f"Queued {plural(queued, 'check')} for `ckan jobs worker`"
                   + (f" ({skipped:,} verified already; --all checks them again)"
                      if skipped else "") + ".")
        return
    counts = dict.fromkeys(("verified", *verification.PROBLEMS), 0)
    for item in todo:
        started = time.monotonic()
        outcome = verification.check(item)
        verification.record(item, outcome)
        counts[outcome.status] += 1
        where = f"{names[item.resource_id]} (resource {item.resource_id})"
        if outcome.status == "verified":
            seconds = max(time.monotonic() - started, 1e-3)
            size = item.size or 0
            click.echo(f"verified  {where}: {human_size(size)}, "
                       f"{human_size(size / seconds)}/s")
        else:
            click.echo(f"{outcome.status:<9} {where}: {outcome.message}", err=True)
    summary = ", ".join(f"{n:,} {status}" for status, n in counts.items())
    click.echo(f"Checked {plural(len(todo), 'object')}: {summary}"
               + (f"; {skipped:,} verified already (--all checks them again)" if skipped
                  else "") + ".")
    problems = sum(counts[s] for s in verification.PROBLEMS)
    if problems:
        raise Failure(f"{plural(problems, 'object')} did not verify",
                      "see the lines above and the resource pages")
