# Shared by bin/test and bin/demo: install and start only what is missing.
# shellcheck shell=bash
CKAN_VERSION="${CKAN_VERSION:-2.11.6}"
VENV="${VENV:-.venv}"
PG_URL="postgresql://postgres@127.0.0.1:5432"

# Per CKAN version, so that bin/test runs of two versions can go at once (.ci/run does):
# a Redis database each for bin/test and for the two runs of bin/core-tests (demo: 2,
# bench: 3).
redis_db() {  # role: test, core-plain or core-with
  local base
  case "$CKAN_VERSION" in 2.10.*) base=11 ;; 2.12.*) base=8 ;; *) base=5 ;; esac
  case "$1" in test) echo "$base" ;; core-plain) echo $((base + 1)) ;; core-with) echo $((base + 2)) ;; esac
}

step() { printf '\n==> %s\n' "$*"; }
die() { printf 'bin/%s: %s\n' "$(basename "$0")" "$*" >&2; exit 1; }

apt_install() {
  command -v apt-get >/dev/null || die "need $* but apt-get is not available; install them by hand"
  if [ -z "${APT_UPDATED:-}" ]; then apt-get update -qq; APT_UPDATED=1; fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

ensure_system_packages() {
  local missing=()
  command -v python3 >/dev/null || missing+=(python3 python3-venv)
  command -v node >/dev/null || missing+=(nodejs)
  command -v npm >/dev/null || missing+=(npm)
  command -v curl >/dev/null || missing+=(curl)
  command -v psql >/dev/null || missing+=(postgresql postgresql-client)
  command -v redis-server >/dev/null || missing+=(redis-server)
  # Browser tests drive Debian's Chromium (Playwright cannot download browsers here).
  [ -x /usr/bin/chromium ] || missing+=(chromium fonts-dejavu-core)
  if ((${#missing[@]})); then step "installing ${missing[*]}"; apt_install "${missing[@]}"; fi
  python3 -c 'import sys; sys.exit(sys.version_info < (3, 10))' || die "Python 3.10+ is needed"
}

# Ceph RGW, the real store of the test bench: needed unless STORE=moto.
ensure_ceph() {
  [ "${STORE:-both}" = moto ] && return 0
  local missing=()
  for daemon in ceph-mon ceph-osd radosgw; do command -v "$daemon" >/dev/null || missing+=("$daemon"); done
  ((${#missing[@]})) || return 0
  step "installing Ceph (radosgw, ceph-mon, ceph-osd) for the real-store tests"
  command -v apt-get >/dev/null || die "Ceph RGW is needed (STORE=${STORE:-both}) but apt-get is not available; install radosgw, ceph-mon and ceph-osd by hand, or run STORE=moto bin/test"
  if [ -z "${APT_UPDATED:-}" ]; then apt-get update -qq; APT_UPDATED=1; fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    radosgw ceph-mon ceph-osd >/dev/null \
    || die "could not install radosgw, ceph-mon and ceph-osd (see apt-get's message above); STORE=moto bin/test runs without Ceph"
}

ensure_services() {
  if ! pg_isready -q -h 127.0.0.1 -p 5432; then
    step "starting PostgreSQL"
    local cluster; cluster=$(ls /etc/postgresql | sort -V | tail -n 1)
    pg_ctlcluster --skip-systemctl-redirect "$cluster" main start
    STARTED_PG=$cluster
    # Trust local TCP connections, as the tests connect without a password.
    for _ in $(seq 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done
  fi
  if ! psql "$PG_URL/postgres" -Atqc 'select 1' >/dev/null 2>&1; then
    local hba; hba=$(ls /etc/postgresql/*/main/pg_hba.conf | head -n 1)
    step "allowing trust auth for postgres on 127.0.0.1 in $hba"
    sed -i '1i host all postgres 127.0.0.1/32 trust' "$hba"
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | sort -V | tail -n 1)" main reload
    sleep 1
  fi
  psql "$PG_URL/postgres" -Atqc 'select 1' >/dev/null || die "cannot connect to PostgreSQL at $PG_URL"
  if ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
    step "starting Redis"
    mkdir -p /var/lib/redis /var/log/redis
    redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no \
      --dir /var/lib/redis --logfile /var/log/redis/ci.log
    STARTED_REDIS=1
    for _ in $(seq 20); do redis-cli -h 127.0.0.1 ping >/dev/null 2>&1 && break; sleep 0.5; done
  fi
  redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null || die "cannot reach Redis on 127.0.0.1:6379"
}

ensure_venv() {
  [ -x "$VENV/bin/python" ] || { step "creating $VENV"; python3 -m venv "$VENV"; }
  local have; have=$("$VENV/bin/python" -c 'import importlib.metadata as m; print(m.version("ckan"))' 2>/dev/null || true)
  local stamp="$VENV/.s3multipart-installed"
  local want; want="$CKAN_VERSION $(cat setup.py requirements.txt dev-requirements.txt | cksum)"
  if [ "$have" != "$CKAN_VERSION" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    step "installing CKAN $CKAN_VERSION, dev requirements and the extension into $VENV"
    "$VENV/bin/pip" install -q --upgrade pip setuptools wheel
    "$VENV/bin/pip" install -q "ckan[requirements,dev]==$CKAN_VERSION"
    "$VENV/bin/pip" install -q -r dev-requirements.txt
    "$VENV/bin/pip" install -q --no-deps -e .
    "$VENV/bin/pip" install -q -r requirements.txt
    echo "$want" > "$stamp"
  fi
}

ensure_node_packages() {
  [ -f package.json ] || return 0
  if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
    step "installing npm packages"
    npm ci --no-audit --no-fund --loglevel=error
  fi
}

ensure_database() {  # name ini
  local name=$1 ini=$2
  if ! psql "$PG_URL/postgres" -Atqc "select 1 from pg_database where datname='$name'" | grep -q 1; then
    step "creating database $name"
    psql "$PG_URL/postgres" -qc "create database $name"
  fi
  step "migrating database $name"
  "$VENV/bin/ckan" -c "$ini" db upgrade >/dev/null
  "$VENV/bin/ckan" -c "$ini" db upgrade -p s3multipart >/dev/null
}
