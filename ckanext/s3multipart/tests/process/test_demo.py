"""bin/demo starts CKAN with the plugin and moto, answers on its URL, and Ctrl-C stops it."""
from __future__ import annotations

import os
import pathlib
import signal
import subprocess
import sys
import time

import ckan
import requests

from ..devsupport import free_port

ROOT = pathlib.Path(__file__).resolve().parents[4]


def test_demo_serves_pages_and_credentials_then_stops(tmp_path):
    port, s3_port = free_port(), free_port()
    # One database per CKAN version: a newer CKAN's migrations cannot be undone.
    database = "ckan_s3multipart_demo_test_" + ckan.__version__.replace(".", "_")
    env = {**os.environ, "DEMO_PORT": str(port), "DEMO_S3_PORT": str(s3_port),
           "DEMO_DIR": str(tmp_path), "DEMO_DB": database,
           "CKAN_VERSION": ckan.__version__, "VENV": sys.prefix}
    for variable in ("CKAN_INI", "CKAN_SQLALCHEMY_URL", "CKAN_REDIS_URL", "CKAN_STORAGE_PATH"):
        env.pop(variable, None)  # bin/test's: the demo has its own
    demo = subprocess.Popen([str(ROOT / "bin/demo")], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, start_new_session=True)
    output = []
    try:
        for line in demo.stdout:
            output.append(line)
            if "Ctrl-C stops it." in line:
                break
        else:
            raise AssertionError("bin/demo ended before serving:\n" + "".join(output))
        site = f"http://127.0.0.1:{port}"
        assert f"{site}/dataset/big-data" in "".join(output)
        for page, text in [("/", "CKAN"), ("/dataset/", "Big data"),
                           ("/dataset/big-data", "Big data")]:
            answer = requests.get(site + page, timeout=30)
            assert answer.status_code == 200 and text in answer.text, page

        session = requests.Session()
        session.post(f"{site}/user/login", data={"login": "publisher",
                                                 "password": "demo-password-123"}, timeout=30)
        html = session.get(f"{site}/dataset/big-data", timeout=30).text
        token = html.split('<meta name="_csrf_token" content="')[1].split('"')[0]
        credentials = session.post(f"{site}/api/3/action/s3multipart_credentials",
                                   json={"id": "big-data"}, headers={"X-CSRFToken": token},
                                   timeout=30).json()
        assert credentials["success"], credentials
        assert credentials["result"]["endpoint_url"] == f"http://127.0.0.1:{s3_port}"
    finally:
        os.killpg(demo.pid, signal.SIGINT)
        rest = demo.communicate(timeout=60)[0]
    assert "demo stopped" in rest
    time.sleep(0.5)
    for dead_port in (port, s3_port):
        try:
            requests.get(f"http://127.0.0.1:{dead_port}/", timeout=2)
        except requests.ConnectionError:
            continue
        raise AssertionError(f"port {dead_port} still answers after Ctrl-C")
