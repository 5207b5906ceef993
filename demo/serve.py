"""bin/demo's server: moto as S3 + STS, CKAN with the plugin and a jobs worker, demo
users and data.

Run by bin/demo (which installs and starts what is missing first); Ctrl-C stops it.
"""
from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import threading

import boto3
from moto.server import ThreadedMotoServer
from werkzeug.serving import make_server

from ckanext.s3multipart.cli.bucket import cors_rule
from ckanext.s3multipart.tests import devsupport

HOST = "127.0.0.1"
CKAN_PORT = int(os.environ.get("DEMO_PORT", "5000"))
S3_PORT = int(os.environ.get("DEMO_S3_PORT", "9000"))
INI = os.environ["DEMO_INI"]
BUCKET = "ckan-demo"
PASSWORD = "demo-password-123"
USERS = {"admin": True, "publisher": False}


def start_s3() -> ThreadedMotoServer:
    server = ThreadedMotoServer(ip_address=HOST, port=S3_PORT, verbose=False)
    server.start()
    s3 = boto3.client("s3", endpoint_url=f"http://{HOST}:{S3_PORT}", region_name="us-east-1",
                      aws_access_key_id="demo", aws_secret_access_key="demo-secret")
    s3.create_bucket(Bucket=BUCKET)
    s3.put_bucket_cors(Bucket=BUCKET, CORSConfiguration={
        "CORSRules": [cors_rule(f"http://{HOST}:{CKAN_PORT}")]})
    return server


def seed() -> None:
    """Create the demo users, organization and dataset once (re-runs keep them)."""
    import ckan.model as model
    from ckan.logic import get_action

    site_user = get_action("get_site_user")({"ignore_auth": True}, {})["name"]
    context = lambda: {"user": site_user, "ignore_auth": True}  # noqa: E731
    for name, sysadmin in USERS.items():
        if not model.User.get(name):
            get_action("user_create")(context(), {
                "name": name, "email": f"{name}@example.org", "password": PASSWORD,
                "fullname": name.title()})
        user = model.User.get(name)
        user.sysadmin = sysadmin
        model.Session.commit()
    if not model.Group.get("demo-org"):
        get_action("organization_create")(context(), {
            "name": "demo-org", "title": "Demo organization",
            "users": [{"name": "publisher", "capacity": "editor"}]})
    if not model.Package.get("big-data"):
        get_action("package_create")(context(), {
            "name": "big-data", "title": "Big data", "owner_org": "demo-org",
            "notes": "A dataset for trying large uploads."})


def stop_worker(worker: subprocess.Popen, grace: float = 10) -> None:
    """A warm shutdown (SIGTERM: rq ends the job at hand first), then, after `grace`
    seconds, SIGKILL for the worker and the job process it forked (its process group)."""
    worker.terminate()
    try:
        worker.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        print(f"jobs worker (pid {worker.pid}) did not stop in {grace:g} s; killed", flush=True)
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait()


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s %(message)s")
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    s3 = start_s3()
    devsupport.no_solr(search_database=True)
    from ckan.cli import load_config
    from ckan.config.middleware import make_app

    app = make_app(load_config(INI))
    with app.apps["flask_app"]._wsgi_app.app_context() if hasattr(app, "apps") else \
            app._wsgi_app.app_context():
        seed()
    # The background jobs (each upload's checksum verification) run as on a real site, in
    # a session of their own: Ctrl-C reaches bin/demo's whole process group, and an rq
    # worker given that SIGINT and then stop_worker's SIGTERM hung on a loaded machine
    # (seen in CI); stop_worker signals it once and makes sure it ends.
    worker = subprocess.Popen(devsupport.jobs_worker_command(INI), start_new_session=True)
    server = make_server(HOST, CKAN_PORT, app, threaded=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    threading.Thread(target=server.serve_forever, daemon=True).start()
    print(f"""
  CKAN with ckanext-s3multipart is running: http://{HOST}:{CKAN_PORT}/dataset/big-data
  S3 + STS (moto):  http://{HOST}:{S3_PORT}  bucket {BUCKET}
  Background jobs:  `ckan jobs worker` (pid {worker.pid}) verifies each upload's SHA-256
  Log in as  publisher / {PASSWORD}   (editor of demo-org, may upload)
         or  admin     / {PASSWORD}   (sysadmin)
  Ctrl-C stops it.
""", flush=True)
    try:
        stop.wait()
    finally:
        stop_worker(worker)
        server.shutdown()
        s3.stop()
    print("demo stopped", flush=True)


if __name__ == "__main__":
    sys.exit(main())
