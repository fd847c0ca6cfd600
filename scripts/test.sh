#!/usr/bin/env bash
# The whole test suite, from a fresh Debian machine with Node 20: installs what is missing
# (Debian packages as root, npm dependencies), makes sure PostgreSQL runs, builds, lints,
# type-checks and runs unit, integration (SQLite + PostgreSQL) and end-to-end (Chromium) tests.
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '\n== %s\n' "$*"; }

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
    echo "Need root to run: $*" >&2; exit 1; fi
}

apt_updated=0
apt_install() {
  if [ $apt_updated = 0 ]; then as_root apt-get update -qq; apt_updated=1; fi
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq --no-install-recommends "$@"
}

log "System packages"
missing=()
command -v chromium >/dev/null || missing+=(chromium)
dpkg -s fonts-dejavu-core >/dev/null 2>&1 || missing+=(fonts-dejavu-core)
command -v psql >/dev/null || missing+=(postgresql)
# Independent verifiers the tests compare against (see ../shared/data/VERIFIERS.md).
command -v dcmdump >/dev/null || missing+=(dcmtk)
/usr/bin/python3 -c 'import pydicom' 2>/dev/null || missing+=(python3-pydicom)
/usr/bin/python3 -c 'import nibabel' 2>/dev/null || missing+=(python3-nibabel)
/usr/bin/python3 -c 'import sklearn' 2>/dev/null || missing+=(python3-sklearn)
/usr/bin/python3 -c 'import scipy.ndimage' 2>/dev/null || missing+=(python3-scipy)
/usr/bin/python3 -c 'import numpy' 2>/dev/null || missing+=(python3-numpy)
# pydicom's pixel handlers for compressed samples (JPEG via Pillow, the rest via GDCM).
/usr/bin/python3 -c 'import PIL' 2>/dev/null || missing+=(python3-pil)
/usr/bin/python3 -c 'import gdcm' 2>/dev/null || missing+=(python3-gdcm)
command -v dciodvfy >/dev/null || missing+=(dicom3tools)
command -v unzip >/dev/null || missing+=(unzip)
if [ ${#missing[@]} -gt 0 ]; then echo "installing: ${missing[*]}"; apt_install "${missing[@]}"; else echo "all present"; fi

log "PostgreSQL on 127.0.0.1:5432"
if ! pg_isready -q -h 127.0.0.1 -p 5432; then
  ver=$(ls /etc/postgresql | sort -V | tail -1)
  hba=/etc/postgresql/$ver/main/pg_hba.conf
  # A fresh install asks for passwords on TCP; the test databases use trust on loopback only.
  if ! grep -q '^host all all 127.0.0.1/32 trust' "$hba"; then
    as_root sed -i '1i host all all 127.0.0.1/32 trust\nhost all all ::1/128 trust' "$hba"
  fi
  as_root pg_ctlcluster --skip-systemctl-redirect "$ver" main start || true
  for _ in $(seq 1 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done
fi
pg_isready -h 127.0.0.1 -p 5432

log "npm dependencies"
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
else
  echo "up to date"
fi

log "Build"
npm run build

log "Lint and type-check"
npx eslint .
npx tsc -p apps/web --noEmit
npx tsc -p apps/web/e2e --noEmit
npx tsc -p tsconfig.tests.json --noEmit

log "Tests"
mkdir -p test-results
set +e
npx vitest run --reporter=default --reporter=json --outputFile.json=test-results/vitest.json
status=$?
set -e
node -e '
const r = require("./test-results/vitest.json");
const skipped = r.numPendingTests + r.numTodoTests;
console.log(`\n${r.numPassedTests} passed, ${r.numFailedTests} failed` + (skipped ? `, ${skipped} skipped` : ""));
'
exit $status
