#!/usr/bin/env bash
# Build the Dockerfile unchanged and smoke-test the container (tests/image, `pytest -m image`).
#
# Starts its own Docker engine for the run (vfs storage, no bridge, no iptables, its own data
# root and socket under a temporary directory; containers use --network host), and stops it and
# everything it started on every exit. Debian's docker.io and debootstrap are installed when
# missing. When the default base image (python:3.11-slim-bookworm) cannot be pulled (no Docker
# Hub here), the base is made from Debian packages with debootstrap, trusting the machine's CA
# certificates inside it as the host does, and passed as the documented PYTHON_IMAGE build
# argument.
#
# If the engine cannot run on this machine the script says so loudly and FAILS: it never
# reports a pass it did not run.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }
say() { printf '\n=== verify-image: %s\n' "$*"; }
loud_failure() {
  printf '\n%s\n' "################################################################"
  printf '### verify-image: NOT VERIFIED: %s\n' "$*"
  printf '%s\n\n' "################################################################"
  exit 1
}

if [ ! -x /usr/sbin/dockerd ] || [ ! -x /usr/bin/docker ] || ! command -v debootstrap >/dev/null; then
  as_root apt-get update
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
    docker.io debootstrap
fi
# Debian's client, the engine's own version (another `docker` may come first on PATH)
DOCKER=/usr/bin/docker

WORK=$(mktemp -d /tmp/lg-verify-image.XXXXXX)
export DOCKER_HOST="unix://$WORK/docker.sock"
engine_pid() { cat "$WORK/dockerd.pid" 2>/dev/null || true; }
cleanup() {
  set +e
  local pid
  pid=$(engine_pid)
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    for id in $("$DOCKER" ps -aq 2>/dev/null); do "$DOCKER" rm -f "$id" >/dev/null 2>&1; done
    as_root kill "$pid"  # dockerd stops its containerd with it
    for _ in $(seq 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
    kill -0 "$pid" 2>/dev/null && as_root kill -9 "$pid"
  fi
  # the engine bind-mounts its data root onto itself and keeps a network namespace file
  grep -o " $WORK[^ ]*" /proc/mounts | sort -r | while read -r mounted; do
    as_root umount "$mounted"
  done
  as_root rm -rf "$WORK"
  if grep -q " $WORK" /proc/mounts || pgrep -f "data-root $WORK" >/dev/null; then
    echo "verify-image: could not remove everything under $WORK" >&2
  fi
}
trap cleanup EXIT

say "starting dockerd (vfs, no bridge) in $WORK"
as_root /usr/sbin/dockerd --storage-driver vfs --bridge none --iptables=false --ip6tables=false \
  --data-root "$WORK/data" --exec-root "$WORK/exec" --pidfile "$WORK/dockerd.pid" \
  -H "$DOCKER_HOST" >"$WORK/dockerd.log" 2>&1 &
for _ in $(seq 120); do
  "$DOCKER" version >/dev/null 2>&1 && break
  sleep 0.5
done
if ! "$DOCKER" version >/dev/null 2>&1; then
  tail -20 "$WORK/dockerd.log" || true
  loud_failure "dockerd does not start on this machine (log above)"
fi

BASE=python:3.11-slim-bookworm
if timeout 60 "$DOCKER" pull "$BASE" >/dev/null 2>&1; then
  say "pulled $BASE"
else
  BASE=lg-verify/python:3.11-bookworm
  say "$BASE: the default base cannot be pulled here; making it from Debian packages"
  ROOTFS="$WORK/rootfs"
  as_root debootstrap --variant=minbase --include=python3,python3-pip,python3-venv,ca-certificates \
    bookworm "$ROOTFS" http://deb.debian.org/debian >"$WORK/debootstrap.log" 2>&1 \
    || { tail -20 "$WORK/debootstrap.log"; loud_failure "debootstrap failed (log above)"; }
  # the machine's CA certificates, as the host trusts them (an egress proxy may sign with one)
  as_root cp /etc/ssl/certs/ca-certificates.crt "$ROOTFS/etc/ssl/certs/ca-certificates.crt"
  # laid out as the python image is: /usr/local/bin/python3.11, pip, no PEP 668 marker
  as_root ln -sf /usr/bin/python3.11 "$ROOTFS/usr/local/bin/python3.11"
  as_root ln -sf /usr/bin/python3.11 "$ROOTFS/usr/local/bin/python"
  as_root ln -sf /usr/bin/pip3 "$ROOTFS/usr/local/bin/pip"
  as_root rm -f "$ROOTFS"/usr/lib/python3*/EXTERNALLY-MANAGED
  as_root rm -rf "$ROOTFS"/var/cache/apt/archives/*.deb "$ROOTFS"/var/lib/apt/lists/*
  as_root tar -C "$ROOTFS" -c . | "$DOCKER" import \
    --change 'ENV PATH=/usr/local/bin:/usr/local/sbin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'ENV SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt' \
    --change 'ENV PIP_CERT=/etc/ssl/certs/ca-certificates.crt' \
    --change 'CMD ["python3"]' - "$BASE" >/dev/null
fi

IMAGE=loyalty-gateway:verify
say "building $IMAGE from the Dockerfile (PYTHON_IMAGE=$BASE)"
started=$(date +%s)
DOCKER_BUILDKIT=1 "$DOCKER" build --network host --build-arg "PYTHON_IMAGE=$BASE" \
  -t "$IMAGE" "$ROOT" || loud_failure "the image does not build"
size=$("$DOCKER" image inspect --format '{{.Size}}' "$IMAGE")
say "built in $(($(date +%s) - started)) s, $((size / 1000000)) MB"

say "smoke test (uv run pytest -m image)"
LG_IMAGE="$IMAGE" LG_DOCKER="$DOCKER" uv run pytest -m image tests/image \
  || loud_failure "the smoke test of the container failed"
say "PASSED: built, healthy, uid 10001, read-only root, balance, earn + replay, drain on stop"
