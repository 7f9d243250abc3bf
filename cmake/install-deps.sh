#!/usr/bin/env bash
# Installs ruxx-sync's build and test dependencies from Debian bookworm. Idempotent: packages
# already present are skipped, so the README commands and .ci/run can both call it every time.
set -euo pipefail
# dpkg-dev and file: `cpack -G DEB` (dpkg-shlibdeps, and CPack's test for ELF files) for the
# Debian packages and their test; a fresh Debian 12 may lack `file`. openssl: the TLS tests
# make their self-signed certificates with its CLI.
packages=(
  build-essential cmake pkg-config
  libboost1.81-dev libboost-json1.81-dev libboost-log1.81-dev libboost-program-options1.81-dev
  libsqlite3-dev sqlite3 libssl-dev zlib1g-dev libdeflate-dev catch2 libhowardhinnant-date-dev tzdata
  ca-certificates openssl curl python3 wrk
  dpkg-dev file
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]} == 0)); then
  echo "install-deps: all dependencies present"
  exit 0
fi
echo "install-deps: installing ${missing[*]}"
sudo_cmd=()
if [[ $(id -u) -ne 0 ]]; then sudo_cmd=(sudo); fi
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -qq
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
