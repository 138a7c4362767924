#!/bin/sh
# mkrootfs.sh DIR: a minimal root filesystem made of Debian's busybox-static:
# /bin/busybox plus one symlink per applet, and the directories a container
# expects. Idempotent.
set -eu
dir=${1:?usage: mkrootfs.sh DIR}
bb=/bin/busybox
if ! "$bb" --list >/dev/null 2>&1; then
    echo "mkrootfs.sh: $bb not found; apt-get install busybox-static" >&2
    exit 1
fi
mkdir -p "$dir/bin" "$dir/proc" "$dir/sys" "$dir/dev" "$dir/etc" "$dir/tmp" "$dir/root" "$dir/run" "$dir/var"
chmod 1777 "$dir/tmp"
cp "$bb" "$dir/bin/busybox"
for applet in $("$bb" --list); do
    [ "$applet" = busybox ] && continue
    ln -sf busybox "$dir/bin/$applet"
done
ln -sfn bin "$dir/sbin" 2>/dev/null || true
mkdir -p "$dir/usr"
ln -sfn ../bin "$dir/usr/bin" 2>/dev/null || true
printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' > "$dir/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' > "$dir/etc/group"
