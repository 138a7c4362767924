#!/bin/bash
# tests/vm/run-in-vm.sh [options] HOST_DIR -- COMMAND [ARG...]
#
# Boots the guest of tests/vm/build-image.sh once, mounts HOST_DIR read-write
# at /src (9p), runs COMMAND there as root when systemd reports the boot
# finished, streams its stdout and stderr back, and powers the guest off.
#
# Options:
#   --timeout SECS       limit for the whole run, boot included (default 1800)
#   --boot-timeout SECS  limit for the boot alone (default 300)
#   --console FILE       keep the guest's serial console log in FILE
#   --put FILE           copy FILE into the guest's /lane/ (e.g. a binary built
#                        outside HOST_DIR); may be repeated
# Environment: HUSK_VMLANE_CACHE (image cache, default /var/cache/husk-vmlane),
#   HUSK_VMLANE_MEM (2G), HUSK_VMLANE_CPUS (2), HUSK_VMLANE_ACCEL (tcg; the
#   KVM of these machines is PVM, which cannot run the Debian kernel).
#
# Exit status: COMMAND's own; 124 when a timeout expired; 125 when the guest
# did not boot or never reported a status (the console's tail is printed).
# qemu is killed by its PID whenever this script exits.
set -euo pipefail

timeout=1800 boot_timeout=300 console_copy= puts=()
while [ $# -gt 0 ]; do
    case "$1" in
    --timeout) timeout=$2; shift 2 ;;
    --boot-timeout) boot_timeout=$2; shift 2 ;;
    --console) console_copy=$2; shift 2 ;;
    --put) puts+=("$2"); shift 2 ;;
    --) shift; break ;;
    -*) echo "run-in-vm.sh: unknown option $1" >&2; exit 125 ;;
    *) host_dir=$1; shift ;;
    esac
done
[ -d "${host_dir:-}" ] && [ $# -gt 0 ] || { sed -n '2,3s/^# //p' "$0" >&2; exit 125; }

say() { printf '[husk-vm] %s\n' "$*" >&2; }
img=${HUSK_VMLANE_CACHE:-/var/cache/husk-vmlane}/image
for f in rootfs.img vmlinuz initrd.img; do
    [ -s "$img/$f" ] || { say "no $img/$f: run tests/vm/build-image.sh first"; exit 125; }
done

ctl=$(mktemp -d /tmp/husk-vm.XXXXXX)
qpid= tails=()
cleanup() {
    if [ -n "$qpid" ] && kill -0 "$qpid" 2>/dev/null; then
        kill -TERM "$qpid" 2>/dev/null || true
        sleep 1
        kill -KILL "$qpid" 2>/dev/null || true
        wait "$qpid" 2>/dev/null || true
    fi
    local p
    for p in "${tails[@]}"; do kill "$p" 2>/dev/null || true; done
    [ -z "$console_copy" ] || cp "$ctl/console.log" "$console_copy" 2>/dev/null || true
    rm -rf "$ctl"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM HUP

{ printf 'cd /src\n'; printf '%q ' "$@"; echo; } >"$ctl/cmd"
: >"$ctl/out"; : >"$ctl/err"; : >"$ctl/console.log"
[ ${#puts[@]} = 0 ] || cp "${puts[@]}" "$ctl/"

share() { printf 'local,path=%s,mount_tag=%s,security_model=none' "${1//,/,,}" "$2"; }
accel=${HUSK_VMLANE_ACCEL:-tcg}
cpu=max; [ "$accel" = tcg ] && accel=tcg,thread=multi || cpu=host
# snapshot=on: every boot starts from the pristine image, nothing persists in it
qemu-system-x86_64 -name "husk-vm-$$" -machine q35 -accel "$accel" -cpu "$cpu" \
    -m "${HUSK_VMLANE_MEM:-2G}" -smp "${HUSK_VMLANE_CPUS:-2}" \
    -nodefaults -no-user-config -display none -no-reboot -nic none -device virtio-rng-pci \
    -kernel "$img/vmlinuz" -initrd "$img/initrd.img" \
    -append "root=/dev/vda rw console=ttyS0,115200 panic=1" \
    -drive "file=${img//,/,,}/rootfs.img,if=virtio,format=raw,snapshot=on,cache=unsafe" \
    -virtfs "$(share "$ctl" lane)" -virtfs "$(share "$(readlink -f "$host_dir")" src)" \
    -serial "file:$ctl/console.log" </dev/null >"$ctl/qemu.log" 2>&1 &
qpid=$!
started=$(date +%s)
say "booting (pid $qpid), /src = $host_dir"

# the guest writes through 9p; tail --pid reads to the end once qemu is gone
tail -n +1 -F --pid="$qpid" "$ctl/out" 2>/dev/null & tails+=($!)
tail -n +1 -F --pid="$qpid" "$ctl/err" >&2 2>/dev/null & tails+=($!)

fail_with_console() { # STATUS WHY
    say "$2; qemu said and the console's last lines:"
    sed 's/^/[qemu] /' "$ctl/qemu.log" >&2
    tail -n 30 "$ctl/console.log" | sed 's/^/[console] /' >&2
    exit "$1"
}
booted=0
while kill -0 "$qpid" 2>/dev/null; do
    elapsed=$(($(date +%s) - started))
    if [ $booted = 0 ] && [ -s "$ctl/booted" ]; then
        booted=1
        say "guest up after ${elapsed}s (systemd: $(cat "$ctl/system-state"))"
    fi
    [ $booted = 1 ] || [ $elapsed -lt "$boot_timeout" ] ||
        fail_with_console 125 "the guest did not boot within ${boot_timeout}s"
    [ $elapsed -lt "$timeout" ] || fail_with_console 124 "timed out after ${timeout}s"
    sleep 1
done
wait "$qpid" || true
qpid=
for p in "${tails[@]}"; do wait "$p" 2>/dev/null || true; done
tails=()
[ -s "$ctl/rc" ] || fail_with_console 125 "the guest exited without reporting a status"
say "command exited $(cat "$ctl/rc") after $(($(date +%s) - started))s"
exit "$(cat "$ctl/rc")"
