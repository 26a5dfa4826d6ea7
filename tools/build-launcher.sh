#!/usr/bin/env bash
# Builds mcp-warden-launcher (launcher/mcp-warden-launcher.c, static, gcc) into the cache,
# keyed by the source's digest, and prints its path. Tests run it on this machine; images
# build it in a stage of images/sidecar.Dockerfile from the same source.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source_file="$here/../launcher/mcp-warden-launcher.c"
cache_root="${MCPWARDEN_CACHE:-$HOME/.cache/mcp-warden}"
digest="$(sha256sum "$source_file" | cut -c1-16)"
out_dir="$cache_root/launcher/$digest"
if [ ! -x "$out_dir/mcp-warden-launcher" ]; then
  command -v gcc >/dev/null || { echo "[launcher] error: gcc is not on PATH; mcp-warden-launcher is built with it" >&2; exit 1; }
  mkdir -p "$out_dir"
  gcc -Os -Wall -Wextra -Werror -static -o "$out_dir/mcp-warden-launcher.tmp" "$source_file"
  strip "$out_dir/mcp-warden-launcher.tmp"
  mv "$out_dir/mcp-warden-launcher.tmp" "$out_dir/mcp-warden-launcher"
fi
echo "$out_dir/mcp-warden-launcher"
