#!/bin/bash
# tests/vm/guest.sh HUSK FILE.bats...: the guest side of tests/vm/lane.sh.
# Checks that the guest is what the lane promises, then runs each bats file
# with HUSK set. Every part of the output is framed by `# vm-file: NAME` and
# `# vm-file-end: NAME STATUS` so that the host can count each file's TAP.
set -u
export HUSK=$1
# tests that skip on a host lacking systemd, cgroup v2 or AppArmor must fail here
export HUSK_VMLANE=1
shift
# husk commands start ~40x slower under software emulation
export HUSK_TIMEOUT=${HUSK_TIMEOUT:-120}
file_timeout=${HUSK_VMLANE_FILE_TIMEOUT:-900}

pid1=$(cat /proc/1/comm)
cgfs=$(stat -f -c %T /sys/fs/cgroup)
aa=$(cat /sys/module/apparmor/parameters/enabled 2>/dev/null)
echo "# vm-file: guest"
echo "# kernel $(uname -r), PID 1 $pid1, /sys/fs/cgroup $cgfs, AppArmor $aa"
echo "# root cgroup.controllers: $(cat /sys/fs/cgroup/cgroup.controllers 2>/dev/null)"
echo "# root cgroup.subtree_control: $(cat /sys/fs/cgroup/cgroup.subtree_control 2>/dev/null)"
echo "# lane's own cgroup: $(cat /proc/self/cgroup)"
echo "1..2"
if [ "$pid1" = systemd ] && [ "$cgfs" = cgroup2fs ] && [ "$aa" = Y ]; then
    echo "ok 1 the guest has systemd as PID 1, cgroup v2 only and AppArmor"
else
    echo "not ok 1 the guest has systemd as PID 1, cgroup v2 only and AppArmor"
fi
if "$HUSK" --version >/dev/null 2>&1; then
    echo "ok 2 the host-built husk runs in the guest ($HUSK)"
else
    echo "not ok 2 the host-built husk runs in the guest ($HUSK)"
    "$HUSK" --version 2>&1 | sed 's/^/# /'
fi
echo "# vm-file-end: guest 0"

for f in "$@"; do
    echo "# vm-file: $f"
    timeout -k 10 "$file_timeout" bats --tap "/src/$f" 2>&1
    rc=$?
    # what the file left behind in the cgroup tree is a finding too
    for d in /sys/fs/cgroup/husk-test/*/; do
        [ -d "$d" ] && echo "# left behind: $d (procs: $(tr '\n' ' ' <"$d/cgroup.procs"))"
    done
    echo "# vm-file-end: $f $rc"
done
