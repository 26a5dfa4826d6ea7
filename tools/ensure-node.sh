#!/usr/bin/env bash
# Prints a folder whose `node` is Node.js 24. Uses the `node` on PATH when it is
# already v24; otherwise installs the npm package node@24 (it ships the real
# binary) into a version-keyed cache outside the checkout, once.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=versions.env
source "$here/versions.env"

if command -v node >/dev/null 2>&1; then
  current="$(node --version 2>/dev/null || true)"
  if [[ "$current" == "v$NODE_MAJOR."* ]]; then
    dirname "$(command -v node)"
    exit 0
  fi
fi

cache_root="${MCPWARDEN_CACHE:-$HOME/.cache/mcp-warden}"
prefix="$cache_root/node-$NODE_MAJOR"
bin_dir="$prefix/bin"
if [ -x "$bin_dir/node" ] && [[ "$("$bin_dir/node" --version)" == "v$NODE_MAJOR."* ]]; then
  echo "$bin_dir"
  exit 0
fi

command -v npm >/dev/null || { echo "[node] error: neither Node.js $NODE_MAJOR nor npm is on PATH" >&2; exit 1; }
echo "[node] installing Node.js $NODE_MAJOR from the npm package node@$NODE_MAJOR into $prefix" >&2
mkdir -p "$prefix"
npm install --no-save --no-audit --no-fund --loglevel=error --prefix "$prefix" "node@$NODE_MAJOR" >&2
# The package's install step links the platform package's binary; find the real file.
real="$(find "$prefix/node_modules" -path '*/node-linux-*/bin/node' -type f | head -n 1)"
[ -n "$real" ] || real="$prefix/node_modules/node/bin/node"
[ -x "$real" ] || { echo "[node] error: node@$NODE_MAJOR installed but no binary found under $prefix" >&2; exit 1; }
mkdir -p "$bin_dir"
ln -sf "$real" "$bin_dir/node"
echo "[node] using $("$bin_dir/node" --version)" >&2
echo "$bin_dir"
