#!/usr/bin/env bash
# Installs the build in build/ into a temporary prefix, builds examples/ against the INSTALLED
# package (find_package(dsmoe) and pkg-config, never the build tree) and runs both examples on a
# tiny random-weight chat model (the demo tokenizer and chat template, tests/capi's config).
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir=${DSMOE_BUILD_DIR:-build}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
prefix=$work/prefix

cmake --install "$build_dir" --prefix "$prefix" >/dev/null
test -L "$prefix/lib/libdsmoe.so.0" || { echo "test_install: no versioned SONAME link" >&2; exit 1; }
[[ $(objdump -p "$prefix/lib/libdsmoe.so") =~ SONAME\ +libdsmoe\.so\.0 ]] ||
  { echo "test_install: wrong SONAME" >&2; exit 1; }

# The installed package only: the source and build trees are not on any search path.
cmake -S examples -B "$work/examples" -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$work/examples" -j "${DSMOE_JOBS:-2}" >/dev/null
PKG_CONFIG_PATH="$prefix/lib/pkgconfig" cc examples/chat.c -o "$work/chat_pc" \
  $(PKG_CONFIG_PATH="$prefix/lib/pkgconfig" pkg-config --cflags --libs dsmoe)

dsmoe="$build_dir/bin/dsmoe"
"$dsmoe" synth --config tests/capi/tiny_chat_config.json --hf-out "$work/hf" -q
cp models/demo/tokenizer.json models/demo/tokenizer_config.json "$work/hf/"
"$dsmoe" convert "$work/hf" -o "$work/tiny.dsmoe" --quant q8 -q

export LD_LIBRARY_PATH="$prefix/lib"
export OMP_NUM_THREADS=1  # a tiny model: threads only add synchronization
for exe in "$work/examples/chat_c" "$work/examples/chat_cpp" "$work/chat_pc"; do
  out=$("$exe" "$work/tiny.dsmoe" "Hello, who are you?")
  [[ $out == *"generated]"* ]] || { echo "test_install: $exe printed: $out" >&2; exit 1; }
  libs=$(ldd "$exe")  # not piped into grep -q: pipefail would see ldd's SIGPIPE
  [[ $libs == *"libdsmoe.so.0 => $prefix/lib/libdsmoe.so.0"* ]] ||
    { echo "test_install: $exe does not use the installed library" >&2; exit 1; }
done
echo "test_install: OK (installed package, CMake and pkg-config consumers, both examples ran)"
