#!/usr/bin/env bash
# `make images`: builds the project's images as PREFIX/NAME:TAG from images/NAME.Dockerfile
# with docker or podman when one answers (pulling node:24-slim as usual); on a machine with
# neither, as root on Linux, with buildah and local base images (tools/build-images.sh).
#
#   tools/make-images.sh PREFIX TAG NAME...
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
prefix="$1" tag="$2"; shift 2

engine=""
for candidate in docker podman; do
  if command -v "$candidate" >/dev/null 2>&1 && "$candidate" info >/dev/null 2>&1; then engine="$candidate"; break; fi
done

if [ -n "$engine" ]; then
  commit="$("$root/tools/git-commit.sh" "$root")"
  for name in "$@"; do
    echo "[images] $engine build $prefix/$name:$tag"
    "$engine" build --build-arg MCPWARDEN_COMMIT="$commit" -f "$root/images/$name.Dockerfile" -t "$prefix/$name:$tag" "$root"
  done
  exit 0
fi

if [ "$(uname -s)" = Linux ] && [ "$(id -u)" -eq 0 ]; then
  specs=()
  for name in "$@"; do specs+=("$prefix/$name:$tag=$root/images/$name.Dockerfile"); done
  "$root/tools/build-images.sh" "${specs[@]}"
  echo "[images] built ${*/#/$prefix/} (tag $tag) with buildah; they are in buildah's store under ${MCPWARDEN_CACHE:-$HOME/.cache/mcp-warden}/images"
  exit 0
fi

echo "[images] no working container engine: neither 'docker info' nor 'podman info' answers (a docker CLI without a daemon does not count), and building without one needs root on Linux; nothing built" >&2
exit 1
