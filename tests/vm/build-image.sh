#!/bin/bash
# tests/vm/build-image.sh [CACHE_DIR]: builds the guest image of husk's VM
# lane, a Debian 12 system with systemd as PID 1, pure cgroup v2 and AppArmor,
# holding what husk's bats tests and a host-built husk need. Only Debian
# packages are used (debootstrap, qemu, e2fsprogs); run as root.
#
# The image goes to CACHE_DIR/image (default $HUSK_VMLANE_CACHE, else
# /var/cache/husk-vmlane), never into the clone. A stamp holds a hash of this
# script: when it matches, the build returns at once; FORCE=1 rebuilds.
# Approach adapted from the shared kit in ../shared/vm/.
set -euo pipefail

SCRIPT=$(readlink -f "${BASH_SOURCE[0]}")
CACHE=${1:-${HUSK_VMLANE_CACHE:-/var/cache/husk-vmlane}}
MIRROR=${HUSK_VMLANE_MIRROR:-http://deb.debian.org/debian}
SUITE=bookworm

# The guest runs tests, not builds: the runtime libraries of a host-built
# husk (dynamic binary, same Debian on both sides) and the bats tooling.
PACKAGES=(
    systemd systemd-sysv udev dbus kmod linux-image-amd64 initramfs-tools apparmor
    libyajl2 libcap2 libseccomp2 libselinux1 libapparmor1 libsystemd0
    bats bats-support bats-assert busybox-static jq procps util-linux iproute2
)

log() { printf '[husk-vm build] %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

[ "$(id -u)" = 0 ] || die "run as root (debootstrap and chroot need it)"
need=()
command -v debootstrap >/dev/null || need+=(debootstrap)
command -v qemu-system-x86_64 >/dev/null || need+=(qemu-system-x86)
command -v mkfs.ext4 >/dev/null || need+=(e2fsprogs)
command -v flock >/dev/null || need+=(util-linux)
[ -e /usr/share/keyrings/debian-archive-keyring.gpg ] || need+=(debian-archive-keyring)
if [ ${#need[@]} -gt 0 ]; then
    log "installing host packages: ${need[*]}"
    DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y \
        --no-install-recommends "${need[@]}"
fi

mkdir -p "$CACHE"
CACHE=$(readlink -f "$CACHE")
exec 9>"$CACHE/.lock"
flock 9 # one builder at a time

hash=$({ cat "$SCRIPT"; echo "$MIRROR $SUITE"; } | sha256sum | cut -c1-16)
if [ "${FORCE:-0}" != 1 ] && [ "$(cat "$CACHE/image/stamp" 2>/dev/null)" = "$hash" ]; then
    log "image $hash is current ($CACHE/image)"
    exit 0
fi

started=$(date +%s)
work=$CACHE/build.tmp
root=$work/root
umount_all() {
    local m
    for m in $(awk -v w="$work/" 'index($2, w) == 1 { print $2 }' /proc/self/mounts | sort -r); do
        umount "$m" || umount -l "$m"
    done
}
trap umount_all EXIT
umount_all # an interrupted build may have left its mounts
rm -rf --one-file-system "$work"
mkdir -p "$work" "$CACHE/debs"

log "debootstrap $SUITE (minbase) from $MIRROR"
debootstrap --variant=minbase --cache-dir="$CACHE/debs" "$SUITE" "$root" "$MIRROR" \
    >"$work/debootstrap.log" 2>&1 || { tail -20 "$work/debootstrap.log" >&2; die "debootstrap failed"; }

printf 'deb %s %s main\ndeb %s %s-updates main\ndeb http://deb.debian.org/debian-security %s-security main\n' \
    "$MIRROR" "$SUITE" "$MIRROR" "$SUITE" "$SUITE" >"$root/etc/apt/sources.list"
printf 'APT::Install-Recommends "false";\n' >"$root/etc/apt/apt.conf.d/90husk"
printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d" # start no daemons in the chroot
chmod 755 "$root/usr/sbin/policy-rc.d"
# The kernel finds its root disk with only these modules in the initramfs.
mkdir -p "$root/etc/initramfs-tools/conf.d" "$root/usr/share/initramfs-tools/modules.d"
printf 'MODULES=list\n' >"$root/etc/initramfs-tools/conf.d/husk-vm"
printf 'virtio_pci\nvirtio_blk\ncrc32c_generic\next4\n' >"$root/usr/share/initramfs-tools/modules.d/husk-vm"

mount -t proc proc "$root/proc"
mount --bind "$CACHE/debs" "$root/var/cache/apt/archives"
in_root() { chroot "$root" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin DEBIAN_FRONTEND=noninteractive "$@"; }
log "installing ${#PACKAGES[@]} packages in the guest"
{ in_root apt-get update && in_root apt-get install -y "${PACKAGES[@]}" &&
    in_root apt-get dist-upgrade -y; } >"$work/apt.log" 2>&1 ||
    { tail -30 "$work/apt.log" >&2; die "apt-get in the guest failed"; }
umount_all
rm -rf "$root/usr/sbin/policy-rc.d" "$root"/var/lib/apt/lists/*

# Guest configuration: a root without password (serial console only), no
# timers or gettys that would compete with the tests under slow emulation.
echo husk-vm >"$root/etc/hostname"
printf '/dev/vda / ext4 defaults,noatime 0 1\n' >"$root/etc/fstab"
in_root passwd -d root >/dev/null
printf '9p\n9pnet_virtio\n' >"$root/etc/modules-load.d/husk-vm.conf"
for u in apt-daily.timer apt-daily-upgrade.timer e2scrub_all.timer fstrim.timer \
    dpkg-db-backup.timer getty@tty1.service serial-getty@ttyS0.service systemd-timesyncd.service; do
    ln -sf /dev/null "$root/etc/systemd/system/$u"
done

# The agent: mounts the two 9p shares from run-in-vm.sh (lane = control dir,
# src = the clone), waits for boot to finish, runs /lane/cmd and powers off.
cat >"$root/usr/local/sbin/husk-vm-agent" <<'EOF'
#!/bin/bash
opts=trans=virtio,version=9p2000.L,msize=262144
mkdir -p /lane /src
mount -t 9p -o "$opts" lane /lane || { echo "husk-vm-agent: no lane share" >/dev/console; systemctl poweroff --force; }
mount -t 9p -o "$opts" src /src || echo "husk-vm-agent: no src share" >/lane/err
systemctl is-system-running --wait >/lane/system-state 2>&1
awk '{ print $1 }' /proc/uptime >/lane/booted
cd /src && env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 \
    bash /lane/cmd </dev/null >/lane/out 2>/lane/err
echo $? >/lane/rc.tmp && mv /lane/rc.tmp /lane/rc
sync
systemctl poweroff --force
EOF
chmod 755 "$root/usr/local/sbin/husk-vm-agent"
cat >"$root/etc/systemd/system/husk-vm-agent.service" <<'EOF'
[Unit]
Description=husk VM lane: run the host's command, then power off
After=multi-user.target

[Service]
ExecStart=/usr/local/sbin/husk-vm-agent
StandardOutput=journal+console
KillMode=process

[Install]
WantedBy=multi-user.target
EOF
ln -sf /etc/systemd/system/husk-vm-agent.service "$root/etc/systemd/system/multi-user.target.wants/"

kver=$(ls "$root/lib/modules" | sort -V | tail -1)
mkdir -p "$work/image"
cp "$root/boot/vmlinuz-$kver" "$work/image/vmlinuz"
cp "$root/boot/initrd.img-$kver" "$work/image/initrd.img"
in_root dpkg-query -W -f '${Package} ${Version}\n' >"$work/image/packages.txt"

log "mkfs.ext4 -d (sparse, 4G)"
truncate -s 4G "$work/image/rootfs.img"
mkfs.ext4 -q -F -L husk-vm -d "$root" "$work/image/rootfs.img"
echo "$hash" >"$work/image/stamp"

rm -rf "$CACHE/image.old"
[ ! -d "$CACHE/image" ] || mv "$CACHE/image" "$CACHE/image.old"
mv "$work/image" "$CACHE/image"
rm -rf --one-file-system "$CACHE/image.old" "$work"
log "built image $hash (kernel $kver) in $(($(date +%s) - started))s"
