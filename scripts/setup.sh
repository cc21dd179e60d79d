#!/usr/bin/env bash
# Installs what dsmoe needs from Debian 12 (when run as root and something is missing), then
# configures and builds Release into build/. Idempotent: a second run only rebuilds what changed.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(build-essential cmake pkg-config libdnnl-dev libxsimd-dev libcli11-dev libgtest-dev
          libsimdjson-dev libpcre2-dev libedit-dev libxxhash-dev)
if [ "${DSMOE_CROSS:-0}" = 1 ]; then packages+=(g++-aarch64-linux-gnu qemu-user); fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  if [ "$(id -u)" != 0 ]; then
    echo "setup.sh: missing Debian packages: ${missing[*]} (run as root to install them)" >&2
    exit 1
  fi
  echo "setup.sh: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

build_dir=${DSMOE_BUILD_DIR:-build}
build_type=${DSMOE_BUILD_TYPE:-Release}
jobs=${DSMOE_JOBS:-$(nproc)}
if [ ! -f "$build_dir/CMakeCache.txt" ]; then
  cmake -S . -B "$build_dir" -DCMAKE_BUILD_TYPE="$build_type" ${DSMOE_CMAKE_ARGS:-}
fi
cmake --build "$build_dir" -j "$jobs"

# The bundled demo model, converted once (q8) so that `build/bin/dsmoe chat` works out of the box.
demo_src=models/demo
demo_out="$build_dir/models/demo-q8.dsmoe"
if [ -f "$demo_src/model.safetensors" ] &&
   { [ ! -f "$demo_out" ] || [ "$demo_src/model.safetensors" -nt "$demo_out" ] ||
     [ "$build_dir/bin/dsmoe" -nt "$demo_out" ]; }; then
  mkdir -p "$build_dir/models"
  "$build_dir/bin/dsmoe" convert "$demo_src" -o "$demo_out" --quant q8 --force --quiet
fi
