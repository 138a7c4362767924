#!/bin/sh
# quickstart.sh: from a fresh Debian 12 machine, as root, to a container.
#   1. installs the Debian packages husk needs (contrib/debian-packages);
#   2. builds husk in ./build;
#   3. makes the default bundle in ./build/bundle: a busybox-static rootfs
#      (contrib/mkrootfs.sh) and the config `husk spec` writes;
#   4. runs a container in it that prints its hostname and its pid.
# Usage: contrib/quickstart.sh [--no-deps]
set -eu
src=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD_DIR:-$src/build}
bundle=$build/bundle
id=husk-quickstart

install_deps=1
case "${1:-}" in
--no-deps) install_deps=0 ;;
"") ;;
*) echo "usage: contrib/quickstart.sh [--no-deps]" >&2; exit 2 ;;
esac

if [ "$(id -u)" != 0 ]; then
    echo "quickstart.sh: run me as root (containers need it, and so does apt-get)" >&2
    exit 1
fi

if [ $install_deps = 1 ]; then
    echo "==> installing Debian packages"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q
    # shellcheck disable=SC2046
    apt-get install -y -q --no-install-recommends $(sed -e 's/#.*//' "$src/contrib/debian-packages")
fi

echo "==> building husk in $build"
[ -x "$src/configure" ] || (cd "$src" && ./autogen.sh)
mkdir -p "$build"
[ -f "$build/Makefile" ] || (cd "$build" && "$src/configure" -q)
make -C "$build" -s -j"$(nproc)"
husk=$build/husk
"$husk" --version

echo "==> making the default bundle in $bundle"
mkdir -p "$bundle"
sh "$src/contrib/mkrootfs.sh" "$bundle/rootfs"
rm -f "$bundle/config.json"
"$husk" spec -b "$bundle"
# No terminal (this script may run without one), and a command that shows
# where it runs.
jq '.process.terminal = false
    | .process.args = ["sh", "-c", "echo \"hello from $(hostname), I am pid $$\""]' \
    "$bundle/config.json" > "$bundle/config.json.new"
mv "$bundle/config.json.new" "$bundle/config.json"

if ! "$husk" run --help >/dev/null 2>&1; then
    echo "==> bundle ready; this build of husk has no 'run' command yet, so no container was started"
    exit 0
fi
echo "==> running container $id"
"$husk" delete -f "$id" >/dev/null 2>&1 || true
"$husk" run -b "$bundle" "$id"
