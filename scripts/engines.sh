#!/usr/bin/env bash
# Start the engines the tests talk to, without systemd, if they are not running yet:
# containerd, then dockerd (which uses it), then libvirt's daemons. Idempotent.
set -euo pipefail
log=${ENGINE_LOG_DIR:-/var/log/novacron-ci}
mkdir -p "$log"

wait_for() { # what, test command…
  local what=$1; shift
  for _ in $(seq 1 100); do "$@" >/dev/null 2>&1 && return 0; sleep 0.2; done
  echo "engines: $what did not come up; its log:" >&2
  tail -n 30 "$log/$what.log" >&2 || true
  return 1
}

if ! ctr version >/dev/null 2>&1; then
  nohup containerd >"$log/containerd.log" 2>&1 &
  wait_for containerd ctr version
fi
if ! docker version >/dev/null 2>&1; then
  nohup dockerd --containerd=/run/containerd/containerd.sock >"$log/dockerd.log" 2>&1 &
  wait_for dockerd docker version
fi
if command -v libvirtd >/dev/null; then
  pgrep -x virtlogd >/dev/null || /usr/sbin/virtlogd -d
  pgrep -x libvirtd >/dev/null || /usr/sbin/libvirtd -d
  wait_for libvirtd virsh -c qemu:///system version
fi
echo "engines: containerd $(ctr version 2>/dev/null | awk '/Version/ {print $2; exit}'), docker $(docker version -f '{{.Server.Version}}'), libvirt $(virsh -c qemu:///system version 2>/dev/null | awk '/libvirt/ {print $NF; exit}')"
