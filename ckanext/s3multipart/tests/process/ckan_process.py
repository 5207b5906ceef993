"""CKAN started in a process of its own from test.ini plus overrides, as an operator starts it."""
from __future__ import annotations

import pathlib
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parents[4]


def write_ini(folder: pathlib.Path, options: dict[str, str]) -> pathlib.Path:
    """test.ini with `options` (full option names) set in [app:main], replacing its own lines."""
    lines = (ROOT / "test.ini").read_text().replace("%(here)s", str(ROOT)).splitlines()
    keep = [line for line in lines if line.split("=")[0].strip() not in options]
    at = keep.index("[app:main]") + 1
    keep[at:at] = [f"{key} = {value}" for key, value in options.items()]
    ini = folder / "ckan.ini"
    ini.write_text("\n".join(keep) + "\n")
    return ini


def run_ckan(folder: pathlib.Path, options: dict[str, str],
             *command: str) -> subprocess.CompletedProcess:
    """Run `ckan -c <ini> <command>`; CKAN builds its whole app before any command."""
    ckan = pathlib.Path(sys.executable).with_name("ckan")
    return subprocess.run([str(ckan), "-c", str(write_ini(folder, options)), *command],
                          capture_output=True, text=True, timeout=180)


# Builds the app from the ini and answers one request through it: start-up went through.
_SERVE_ONE_REQUEST = """
import json, sys
from ckan.cli import load_config
from ckan.config.middleware import make_app
from werkzeug.test import Client
client = Client(make_app(load_config(sys.argv[1])))
status = client.get("/api/3/action/status_show").json["result"]
helped = client.get("/api/3/action/help_show?name=s3multipart_credentials").json
print(json.dumps({"extensions": status["extensions"], "help": helped["success"]}))
"""


def serve_one_request(folder: pathlib.Path, options: dict[str, str]) -> subprocess.CompletedProcess:
    """Start CKAN with these options and ask it for status_show and one of the plugin's
    actions; stdout is their JSON when it started."""
    return subprocess.run([sys.executable, "-c", _SERVE_ONE_REQUEST,
                           str(write_ini(folder, options))],
                          capture_output=True, text=True, timeout=180)
