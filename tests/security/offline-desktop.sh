#!/usr/bin/env bash
# The desktop app's end-to-end test (tests/desktop/run.sh) with no network
# but loopback: inside a network namespace that has only `lo`, with every
# connect()/sendto()/sendmsg() of every process traced. Fails if the test
# fails or if any process addressed anything but 127.0.0.0/8, ::1 or a local
# socket. The daemon and CLI get the same check in `cargo test`
# (tests/cli/security.rs, everything_works_without_a_network_…).
#
#   tests/security/offline-desktop.sh [--only embedded|attached] [--keep]
#
# Needs what run.sh needs, plus util-linux (unshare), iproute2 (ip) and
# strace. Where the kernel does not allow a network namespace or ptrace, it
# prints SKIPPED and why, and runs the desktop test without the isolation.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$root/target}"

if ! out=$(unshare -n sh -c 'ip link set lo up' 2>&1); then
  echo "SKIPPED (offline check): cannot make a network namespace with only lo (unshare -n): $out"
  exec tests/desktop/run.sh "$@"
fi
if ! out=$(strace -f -qq -o /dev/null true 2>&1); then
  echo "SKIPPED (offline check): strace cannot trace here (ptrace not permitted?): $out"
  exec tests/desktop/run.sh "$@"
fi

# Everything that may need the network happens first, outside.
[ -d ui/node_modules ] || npm --prefix ui ci
[ -f ui/dist/index.html ] || npm --prefix ui run build
cargo build --locked -p agentwatch-cli -p agentwatch-desktop
tests/desktop/venv.sh

log="$(mktemp -d)/trace"
echo "offline-desktop: tracing into $log.*"
set +e
CARGO_NET_OFFLINE=true unshare -n bash -c '
  ip link set lo up || exit 1
  exec strace -f -ff -qq -s 64 -e trace=connect,sendto,sendmsg,sendmmsg -e signal=none -o "$0" tests/desktop/run.sh "$@"
' "$log" "$@"
status=$?
set -e

# Every IPv4/IPv6 address any process sent to must be loopback.
remote=$(cat "$log".* | grep -E 'sa_family=AF_INET6?' \
  | grep -vE 'inet_addr\("127\.[0-9.]+"\)|inet_pton\(AF_INET6, "(::1|::ffff:127\.[0-9.]+)"' || true)
loopback=$(cat "$log".* | grep -cE 'connect\(.*(inet_addr\("127\.|inet_pton\(AF_INET6, "::1")' || true)
echo "offline-desktop: $(ls "$log".* | wc -l) processes traced, $loopback loopback connects"
if [ -n "$remote" ]; then
  echo "offline-desktop: FAILED: addresses beyond loopback:" >&2
  echo "$remote" >&2
  exit 1
fi
if [ "$loopback" -eq 0 ]; then
  echo "offline-desktop: FAILED: no loopback connection traced; is strace working?" >&2
  exit 1
fi
[ $status -eq 0 ] || { echo "offline-desktop: FAILED: the desktop test failed without a network ($status)" >&2; exit $status; }
rm -rf "$(dirname "$log")"
echo "offline-desktop: the desktop app works without a network and connected only to loopback"
