#!/bin/sh
# Regenerates the golden files from `runc spec` (run as root, so that the
# rootless mappings hold host id 0). husk writes what runc writes except:
#   ociVersion  the runtime-spec version husk implements (runc writes its own)
#   hostname    "husk" (runc writes "runc")
# Those two lines are rewritten; everything else, formatting included, is
# runc's output byte for byte.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
command -v runc >/dev/null || { echo "derive.sh: runc is needed to derive the golden files" >&2; exit 1; }
[ "$(id -u)" = 0 ] || { echo "derive.sh: run as root (rootless mappings use the caller's ids)" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

derive() { # derive OUTPUT [runc spec flags]
    out=$1
    shift
    mkdir "$tmp/$out"
    (cd "$tmp/$out" && runc spec "$@")
    sed -e 's/^\t"ociVersion": "[^"]*",$/\t"ociVersion": "1.3.0",/' \
        -e 's/^\t"hostname": "runc",$/\t"hostname": "husk",/' \
        "$tmp/$out/config.json" > "$here/$out"
    grep -q '"ociVersion": "1.3.0"' "$here/$out"
    grep -q '"hostname": "husk"' "$here/$out"
}

derive config.json
derive config-rootless.json --rootless
echo "derived from $(runc --version | head -1)"
