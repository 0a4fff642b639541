#!/usr/bin/env bash
# The tools the integration tests drive that cannot live in the test environment itself,
# set up once (later runs skip what is there):
#   .venv-validator  the official rocrate-validator (roc-validator 0.13 pins rich<14;
#                    Flower needs rich>=14)
#   .venv-fedn       FEDn 0.33 and moto[server] (FEDn pins grpcio/protobuf below Flower's;
#                    it needs Python 3.9-3.12)
#   chromium         headless browser for the ro-crate-preview.html test (apt, as root or
#                    with passwordless sudo)
#   virtuoso         Virtuoso 7 open source (virtuoso-t, isql-vt) for the shared-store
#                    test tests/integration/test_sparql_virtuoso.py (apt, as chromium)
# Tests find them in the repository (or via FEDCRATE_VALIDATOR_PYTHON / FEDCRATE_FEDN); a
# missing tool skips its tests with the reason, except under CI=true, where it fails them.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -x .venv-validator/bin/rocrate-validator ]; then
  echo "tests/tools.sh: the official validator's venv (.venv-validator)"
  python3 -m venv .venv-validator
  .venv-validator/bin/python -m pip install --quiet --upgrade pip
  .venv-validator/bin/python -m pip install --quiet "roc-validator==0.13.0"
fi

if [ ! -x .venv-fedn/bin/fedn ]; then
  fedn_python=""
  for candidate in python3.12 python3.11 python3.10 python3; do
    # 2>/dev/null: a pyenv shim for a version that is not active prints a page of advice
    # to stderr and exits 127; that only means "not this one".
    if command -v "$candidate" >/dev/null 2>&1 && "$candidate" -c \
        'import sys; sys.exit(not (3, 9) <= sys.version_info[:2] < (3, 13))' 2>/dev/null; then
      fedn_python=$candidate
      break
    fi
  done
  if [ -n "$fedn_python" ]; then
    echo "tests/tools.sh: FEDn's venv (.venv-fedn, $fedn_python)"
    "$fedn_python" -m venv .venv-fedn
    .venv-fedn/bin/python -m pip install --quiet --upgrade pip
    # moto[server]: the S3-compatible store of the loopback FEDn network.
    .venv-fedn/bin/python -m pip install --quiet "fedn==0.33.*" "moto[server]"
  else
    echo "tests/tools.sh: no Python 3.9-3.12 for FEDn; its tests will say so" >&2
  fi
fi

if ! command -v chromium >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1; then
  as_root=""
  [ "$(id -u)" = 0 ] || as_root="sudo -n"
  echo "tests/tools.sh: installing Chromium, the headless browser of the preview test:" \
    "${as_root:+$as_root }apt-get update && ${as_root:+$as_root }apt-get install chromium" \
    "(system-wide; install it yourself first to skip this)"
  if ! { $as_root apt-get update -qq \
      && DEBIAN_FRONTEND=noninteractive $as_root apt-get install -y -qq chromium >/dev/null; }; then
    echo "tests/tools.sh: could not install chromium; the browser test will say so" >&2
  fi
fi

if ! { command -v virtuoso-t && command -v isql-vt; } >/dev/null 2>&1 \
    && command -v apt-get >/dev/null 2>&1; then
  as_root=""
  [ "$(id -u)" = 0 ] || as_root="sudo -n"
  echo "tests/tools.sh: virtuoso-opensource (apt: virtuoso-t and isql-vt)"
  if ! { $as_root apt-get update -qq \
      && DEBIAN_FRONTEND=noninteractive $as_root apt-get install -y -qq \
        virtuoso-opensource >/dev/null; }; then
    echo "tests/tools.sh: could not install Virtuoso; its tests will say so" >&2
  elif command -v systemctl >/dev/null 2>&1 \
      && systemctl is-active --quiet virtuoso-opensource-7 2>/dev/null; then
    # Where apt started the packaged service (systemd machines), stop and disable it: it
    # listens on all interfaces with the default dba password, and the tests run their
    # own server on free 127.0.0.1 ports.
    echo "tests/tools.sh: stopping the packaged virtuoso-opensource-7 service"
    $as_root systemctl disable --now virtuoso-opensource-7 >/dev/null 2>&1 || true
  fi
fi
