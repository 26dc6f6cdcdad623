#!/usr/bin/env bash
# tests/vm/run.sh: ask a real SELinux kernel.
#
# Boots Debian's own kernel under qemu (TCG, no KVM) with SELinux on, loads
# Debian's selinux-policy-default plus tests/vm/container.cil, and runs the
# guest program (tests/vm/guest, `vm-guest suite`) that compares selinux-mcs
# with the kernel:
#   check 1  canonical form and validity  (/sys/fs/selinux/context)
#   check 2  MCS decisions                 (/sys/fs/selinux/access)
#   check 3  relabel apply/show/restore on tmpfs and ext4
#   check 4  enforcing, end to end (container_t processes)
#   check 5  the libselinux feature on the enabled kernel
#   check 6  selinux_mcs::process: process labels, exec, keys, sockets,
#            peers, relabel exec / show --pid (permissive and enforcing)
# Exit 0 only when every check passes. A hang or a panic is a failure.
#
#   tests/vm/run.sh                     everything
#   tests/vm/run.sh --contexts FILE     check 1 only, on FILE's lines
#
# Needs root (apt-get, semodule on a private copy of the policy store).
# Downloads (the kernel package, busybox-static) are cached in target/vm-cache.
# Environment: VM_TIMEOUT (seconds, default 480), VM_SEED, VM_COUNT, VM_PAIRS.
set -euo pipefail
cd "$(dirname "$0")/../.."
REPO=$PWD

usage() { sed -n '2,22p' "$0" | sed 's/^# \{0,1\}//'; }

CONTEXTS=""
while [ $# -gt 0 ]; do
    case "$1" in
        --contexts)
            [ $# -ge 2 ] || { echo "run.sh: --contexts needs a FILE" >&2; exit 2; }
            [ -r "$2" ] || { echo "run.sh: cannot read $2" >&2; exit 2; }
            CONTEXTS=$(realpath "$2"); shift 2 ;;
        -h|--help) usage; exit 0 ;;
        *) echo "run.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
    esac
done

START=$(date +%s)
step() { echo "== vm: $* ($(( $(date +%s) - START ))s)"; }

SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive

# ---------------------------------------------------------------- packages
step "packages"
installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }
need=()
for p in qemu-system-x86 cpio selinux-policy-default policycoreutils semodule-utils e2fsprogs libselinux1-dev libclang-dev; do
    installed "$p" || need+=("$p")
done
APT_UPDATED=0
apt_update() { if [ "$APT_UPDATED" = 0 ]; then $SUDO apt-get update -qq; APT_UPDATED=1; fi; }
if [ ${#need[@]} -gt 0 ]; then
    apt_update
    $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

CACHE=$REPO/target/vm-cache
mkdir -p "$CACHE"
# Download a package and unpack it into the cache (never installed).
unpacked() { # PACKAGE -> prints its unpacked directory
    local pkg=$1 dir=$CACHE/$1
    if [ ! -f "$dir/.done" ]; then
        rm -rf "$dir" "$CACHE"/dl; mkdir -p "$CACHE/dl"
        if ! (cd "$CACHE/dl" && apt-get download "$pkg" >/dev/null 2>&1); then
            apt_update >&2
            (cd "$CACHE/dl" && apt-get download "$pkg" >/dev/null 2>&1)
        fi
        dpkg-deb -x "$CACHE"/dl/*.deb "$dir"
        rm -rf "$CACHE/dl"
        touch "$dir/.done"
    fi
    echo "$dir"
}

# The kernel: the package linux-image-amd64 depends on.
kernel_package() {
    apt-cache depends linux-image-amd64 2>/dev/null | awk '/Depends: linux-image-[0-9]/ {print $2; exit}'
}
KPKG=$(kernel_package)
if [ -z "$KPKG" ]; then apt_update; KPKG=$(kernel_package); fi
[ -n "$KPKG" ] || { echo "run.sh: cannot find the package linux-image-amd64 depends on" >&2; exit 1; }
step "kernel $KPKG"
KDIR=$(unpacked "$KPKG")
BBDIR=$(unpacked busybox-static)
VMLINUZ=$(ls "$KDIR"/boot/vmlinuz-*)
MODDIR=$(ls -d "$KDIR"/lib/modules/*)

WORK=$(mktemp -d /tmp/selinux-mcs-vm.XXXXXX)
cleanup() { rm -rf "$WORK"; }
trap cleanup EXIT

# ---------------------------------------------------------------- policy
# Debian's policy store, copied; the module goes into the copy only.
POLVER=$(dpkg-query -W -f='${Version}' selinux-policy-default)
POLKEY=$( (echo "$POLVER"; cat tests/vm/container.cil) | sha256sum | cut -c1-16)
POLICY=$CACHE/policy-$POLKEY
if [ ! -f "$POLICY" ]; then
    step "policy: semodule -p (private copy) -i tests/vm/container.cil"
    mkdir -p "$WORK/root/var/lib" "$WORK/root/etc"
    cp -a /var/lib/selinux "$WORK/root/var/lib/"
    cp -a /etc/selinux "$WORK/root/etc/"
    semodule -p "$WORK/root" -s default -n -i tests/vm/container.cil 2>&1 | grep -v "not in password file" >&2 || true
    built=$(ls "$WORK"/root/etc/selinux/default/policy/policy.* | head -n1)
    [ -n "$built" ] && [ "$built" -nt tests/vm/container.cil ] || { echo "run.sh: semodule built no policy" >&2; exit 1; }
    cp "$built" "$POLICY.tmp" && mv "$POLICY.tmp" "$POLICY"
fi

# ---------------------------------------------------------------- binaries
step "cargo build --release (vm-guest, relabel; with libselinux for check 5)"
cargo build --release --quiet -p selinux-mcs-vm-guest -p relabel-cli \
    --features selinux-mcs-vm-guest/libselinux,relabel-cli/libselinux
BIN=${CARGO_TARGET_DIR:-$REPO/target}/release

# ---------------------------------------------------------------- initramfs
step "initramfs"
I=$WORK/initramfs
mkdir -p "$I"/{bin,dev,proc,sys,tmp,mnt,root,etc,modules}
cp "$BBDIR/bin/busybox" "$I/bin/busybox"
cp "$BIN/vm-guest" "$BIN/relabel" "$I/bin/"
for lib in $( (ldd "$BIN/vm-guest"; ldd "$BIN/relabel") | awk '$2 == "=>" && $3 ~ /^\// {print $3} $1 ~ /^\// {print $1}' | sort -u); do
    cp -L --parents "$lib" "$I/"
done
cp "$POLICY" "$I/policy"
EXT4_MODULES="crc16 mbcache jbd2 crc32c_generic ext4 loop"
for m in $EXT4_MODULES; do
    f=$(find "$MODDIR/kernel" -name "$m.ko*" | head -n1)
    [ -n "$f" ] || { echo "run.sh: module $m not in $KPKG" >&2; exit 1; }
    case "$f" in
        *.ko.xz) xz -dc "$f" > "$I/modules/$m.ko" ;;
        *.ko.zst) zstd -qdc "$f" > "$I/modules/$m.ko" ;;
        *) cp "$f" "$I/modules/$m.ko" ;;
    esac
done
truncate -s 8M "$I/ext4.img"
mkfs.ext4 -q -F -N 128 "$I/ext4.img"

GUEST_ARGS="suite --seed ${VM_SEED:-14} --count ${VM_COUNT:-100000} --pairs ${VM_PAIRS:-10000}"
if [ -n "$CONTEXTS" ]; then
    cp "$CONTEXTS" "$I/contexts.txt"
    GUEST_ARGS="suite --contexts /contexts.txt"
fi
cat > "$I/init" <<EOF
#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/bin HOME=/root
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mount -t selinuxfs selinuxfs /sys/fs/selinux
mount -t securityfs securityfs /sys/kernel/security
echo 1 > /proc/sys/kernel/printk
out=/dev/ttyS1
echo "VM-SUITE-BEGIN kernel \$(uname -r), lsm=\$(cat /sys/kernel/security/lsm 2>/dev/null), booted in \$(cut -d' ' -f1 /proc/uptime)s" > \$out
# One write: the kernel refuses a policy that arrives in pieces.
if ! dd if=/policy of=/sys/fs/selinux/load bs=16M 2>/tmp/dd.err; then
    echo "VM-SUITE: policy load failed: \$(cat /tmp/dd.err)" > \$out
fi
echo "policy loaded: enforce=\$(cat /sys/fs/selinux/enforce) mls=\$(cat /sys/fs/selinux/mls) policyvers=\$(cat /sys/fs/selinux/policyvers)" > \$out
mount -t tmpfs tmpfs /tmp
mkdir -p /mnt/tmpfs /mnt/enforce /mnt/ext4
mount -t tmpfs tmpfs /mnt/tmpfs
mount -t tmpfs tmpfs /mnt/enforce
EXT4=""
for m in $EXT4_MODULES; do insmod /modules/\$m.ko || echo "insmod \$m failed" > \$out; done
if mount -t ext4 -o loop /ext4.img /mnt/ext4 2>/tmp/mount.err; then
    EXT4="--ext4 /mnt/ext4"
else
    echo "ext4 mount failed: \$(cat /tmp/mount.err)" > \$out
fi
/bin/vm-guest $GUEST_ARGS \$EXT4 > \$out 2>&1
echo "VM-SUITE-END rc=\$?" > \$out
sync
poweroff -f
EOF
chmod +x "$I/init"
(cd "$I" && find . | cpio -o -H newc --quiet) > "$WORK/initramfs.cpio"

# ---------------------------------------------------------------- boot
TIMEOUT=${VM_TIMEOUT:-480}
step "boot (qemu TCG, timeout ${TIMEOUT}s)"
CONSOLE=$WORK/console.log
RESULTS=$WORK/results.log
: > "$RESULTS"
set +e
timeout --kill-after=10 "$TIMEOUT" qemu-system-x86_64 \
    -accel tcg -cpu max -smp 2 -m 1536 \
    -kernel "$VMLINUZ" -initrd "$WORK/initramfs.cpio" \
    -append "console=ttyS0 lsm=selinux selinux=1 security=selinux enforcing=0 panic=-1 quiet" \
    -display none -monitor none -no-reboot \
    -serial "file:$CONSOLE" -serial "file:$RESULTS" &
QEMU=$!
# Stream the results while the guest runs.
tail -n +1 -f "$RESULTS" --pid=$QEMU &
TAIL=$!
wait $QEMU
QRC=$?
wait $TAIL 2>/dev/null
set -e
step "guest finished (qemu exit $QRC)"

fail() {
    echo "== vm: FAIL: $*"
    echo "== vm: console tail:"
    tail -n 60 "$CONSOLE" | sed 's/^/  | /'
    exit 1
}
[ "$QRC" != 124 ] && [ "$QRC" != 137 ] || fail "the guest did not finish within ${TIMEOUT}s (hang?)"
grep -q "Kernel panic" "$CONSOLE" && fail "kernel panic"
grep -q "^VM-SUITE-END" "$RESULTS" || fail "the guest stopped before the suite ended"
if [ -n "$CONTEXTS" ]; then
    grep -q "^RESULT check1 PASS" "$RESULTS" || fail "check 1 disagrees with the kernel (see above)"
else
    for c in check1 check2 check3 check4 check5 check6 check7; do
        grep -q "^RESULT $c PASS" "$RESULTS" || fail "$c did not pass (see above)"
    done
fi
grep -q "^VM-SUITE-END rc=0" "$RESULTS" || fail "the guest program failed"
echo "== vm: PASS in $(( $(date +%s) - START ))s"
