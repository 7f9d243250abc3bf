#!/usr/bin/env bash
# The README's test command: installs dependencies (idempotent), configures and builds with
# warnings as errors, and runs the whole test suite through ctest. Extra arguments go to ctest
# (e.g. -L unit, -R master). BUILD_DIR (default build) selects the build tree; RUXX_SANITIZE=ON
# builds with ASan+UBSan.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build_dir=${BUILD_DIR:-$root/build}
bash "$root/cmake/install-deps.sh"
cmake -S "$root" -B "$build_dir" -DCMAKE_BUILD_TYPE=${BUILD_TYPE:-RelWithDebInfo} \
  -DRUXX_WARNINGS_AS_ERRORS=ON -DRUXX_SANITIZE=${RUXX_SANITIZE:-OFF} >/dev/null
cmake --build "$build_dir" -j"$(nproc)"
ctest --test-dir "$build_dir" --output-on-failure -j"$(nproc)" --timeout 600 "$@"
