#!/usr/bin/env bash
# Builds container images on a machine with no container engine and no registry to pull
# from (root on Linux): buildah builds the Dockerfiles as they are, FROM local stand-ins
# for debian:bookworm-slim and node:24-slim (tools/images/) made from the machine's own
# Debian mirror (debootstrap) and the Node.js 24 that `make` runs on. Nothing is pulled.
#
#   tools/build-images.sh [--archives DIR] REF=DOCKERFILE[=CONTEXT] ...
#
# REF is the image's full name (e.g. localhost/mcp-warden/sidecar:0.1.0); CONTEXT defaults
# to the repository root. Dockerfiles get --build-arg NODE_IMAGE and DEBIAN_IMAGE naming
# the local bases. With --archives, each image is also saved as a docker-archive in DIR
# (for `ctr images import`); the archive paths are printed, one per line.
#
# The machine's CA bundle and npm settings are mounted into RUN steps (npm ci needs them
# where registry access is TLS-intercepted) and never end up in an image. buildah's
# storage lives in the version-keyed cache, and every buildah command runs in a mount
# namespace of its own, so no mount outlives it.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "$here")"
# shellcheck source=versions.env
source "$here/versions.env"
cache_root="${MCPWARDEN_CACHE:-$HOME/.cache/mcp-warden}"
images_cache="$cache_root/images"
log() { printf '[images] %s\n' "$*" >&2; }

archives=""
specs=()
while [ $# -gt 0 ]; do
  case "$1" in
    --archives) archives="$2"; shift 2 ;;
    -*) log "error: unknown option $1"; exit 2 ;;
    *) specs+=("$1"); shift ;;
  esac
done
[ ${#specs[@]} -gt 0 ] || { log "error: name at least one REF=DOCKERFILE"; exit 2; }

if [ "$(uname -s)" != Linux ] || [ "$(id -u)" -ne 0 ]; then
  log "error: building without a container engine needs root on Linux (buildah, debootstrap); install docker or podman instead"
  exit 1
fi
"$here/ensure-system-packages.sh" images

node_dir="$("$here/ensure-node.sh")"
node_bin="$(readlink -f "$node_dir/node")"
node_version="$("$node_bin" --version)"

storage="$images_cache/buildah"
mkdir -p "$storage/root" "$storage/runroot"
buildah_cmd() {
  unshare --mount --propagation private \
    buildah --root "$storage/root" --runroot "$storage/runroot" --storage-driver overlay "$@"
}
image_label() { # REF LABEL: the label's value, empty when the image or label is missing
  buildah_cmd inspect --type image --format "{{index .ImageAnnotations \"$2\"}}{{index .OCIv1.Config.Labels \"$2\"}}" "$1" 2>/dev/null || true
}

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# --- the local bases -------------------------------------------------------------------
. /etc/os-release
suite="$VERSION_CODENAME"
debian_image="localhost/mcp-warden/debian:$suite-slim"
node_image="localhost/mcp-warden/node:$NODE_MAJOR-slim"

if [ -z "$(image_label "$debian_image" dev.mcpwarden.debian-suite)" ]; then
  # The mirror this machine's apt uses (never written into the project).
  mirror="$(apt-cache policy 2>/dev/null | awk -v s=" $suite/main " 'index($0, s) && /Packages/ {print $2; exit}')"
  [ -n "$mirror" ] || { log "error: found no Debian mirror for $suite/main in apt's sources (run apt-get update)"; exit 1; }
  start=$(date +%s)
  log "building $debian_image: debootstrap --variant=minbase $suite (a few minutes, once)"
  rootfs="$work/rootfs"
  debootstrap --variant=minbase "$suite" "$rootfs" "$mirror" >"$work/debootstrap.log" 2>&1 || {
    tail -20 "$work/debootstrap.log" >&2; exit 1; }
  rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/log/*.log "$rootfs"/tmp/*
  mkdir -p "$work/debian"
  tar -C "$rootfs" --numeric-owner -cf "$work/debian/rootfs.tar" .
  rm -rf "$rootfs"
  buildah_cmd build --quiet --pull=never --isolation chroot --layers \
    --label dev.mcpwarden.debian-suite="$suite" \
    -f "$here/images/debian.Dockerfile" -t "$debian_image" "$work/debian" >/dev/null
  log "built $debian_image in $(( $(date +%s) - start ))s"
fi

if [ "$(image_label "$node_image" dev.mcpwarden.node-version)" != "$node_version" ]; then
  start=$(date +%s)
  log "building $node_image with Node.js $node_version and npm $NPM_VERSION"
  mkdir -p "$work/node/tree/usr/local/bin" "$work/node/tree/usr/local/lib/node_modules"
  cp "$node_bin" "$work/node/tree/usr/local/bin/node"
  npm pack --silent --pack-destination "$work/node" "npm@$NPM_VERSION" >/dev/null
  mkdir -p "$work/node/tree/usr/local/lib/node_modules/npm"
  tar -C "$work/node/tree/usr/local/lib/node_modules/npm" --strip-components=1 -xzf "$work"/node/npm-*.tgz
  ln -s ../lib/node_modules/npm/bin/npm-cli.js "$work/node/tree/usr/local/bin/npm"
  ln -s ../lib/node_modules/npm/bin/npx-cli.js "$work/node/tree/usr/local/bin/npx"
  tar -C "$work/node/tree" --numeric-owner --owner=0 --group=0 -cf "$work/node/node.tar" .
  buildah_cmd build --quiet --pull=never --isolation chroot --layers \
    --build-arg DEBIAN_IMAGE="$debian_image" --label dev.mcpwarden.node-version="$node_version" \
    -f "$here/images/node.Dockerfile" -t "$node_image" "$work/node" >/dev/null
  log "built $node_image in $(( $(date +%s) - start ))s"
fi

# --- what RUN steps may read: the CA bundle, the npm and pip registry settings ----------
ca_bundle=""
for candidate in "$(npm config get cafile 2>/dev/null)" "${NODE_EXTRA_CA_CERTS:-}" "${SSL_CERT_FILE:-}" /etc/ssl/certs/ca-certificates.crt; do
  if [ -n "$candidate" ] && [ "$candidate" != null ] && [ -f "$candidate" ]; then ca_bundle="$candidate"; break; fi
done
{
  echo "registry=$(npm config get registry)"
  [ -n "$ca_bundle" ] && echo "cafile=/etc/ssl/certs/mcp-warden-build-ca.crt"
  echo "fund=false"
  echo "audit=false"
  echo "update-notifier=false"
} > "$work/npmrc"
run_mounts=(-v "$work/npmrc:/usr/local/etc/npmrc:ro")
# pip (images from PyPI, e.g. images/mockloop.Dockerfile): the same CA, and the index this machine's pip uses.
{
  echo "[global]"
  index_url="$(pip config get global.index-url 2>/dev/null || true)"
  if [ -n "$index_url" ]; then echo "index-url = $index_url"; fi
  if [ -n "$ca_bundle" ]; then echo "cert = /etc/ssl/certs/mcp-warden-build-ca.crt"; fi
} > "$work/pip.conf"
run_mounts+=(-v "$work/pip.conf:/etc/pip.conf:ro")
[ -n "$ca_bundle" ] && run_mounts+=(-v "$ca_bundle:/etc/ssl/certs/mcp-warden-build-ca.crt:ro")
npm_cache="$(npm config get cache)"
mkdir -p "$npm_cache"
run_mounts+=(-v "$npm_cache:/root/.npm")

# --- the images ------------------------------------------------------------------------
# The commit `mcp-warden version` reports (the build context has no .git).
commit="$("$here/git-commit.sh" "$root")"
[ -n "$archives" ] && mkdir -p "$archives"
for spec in "${specs[@]}"; do
  IFS='=' read -r ref dockerfile context <<<"$spec"
  context="${context:-$root}"
  start=$(date +%s)
  log "buildah build $ref ($dockerfile)"
  if ! buildah_cmd build --quiet --pull=never --isolation chroot --layers \
      --build-arg NODE_IMAGE="$node_image" --build-arg DEBIAN_IMAGE="$debian_image" \
      --build-arg MCPWARDEN_COMMIT="$commit" \
      "${run_mounts[@]}" -f "$dockerfile" -t "$ref" "$context" >"$work/build.log" 2>&1; then
    tail -40 "$work/build.log" >&2
    log "error: building $ref failed"
    exit 1
  fi
  log "built $ref in $(( $(date +%s) - start ))s"
  if [ -n "$archives" ]; then
    id="$(buildah_cmd inspect --type image --format '{{.FromImageID}}' "$ref")"
    archive="$archives/$(printf '%s' "$ref" | tr '/:' '__').tar"
    if [ "$(cat "$archive.id" 2>/dev/null)" != "$id" ]; then
      rm -f "$archive" "$archive.id"
      buildah_cmd push --quiet "$ref" "docker-archive:$archive.tmp:$ref" >/dev/null
      mv "$archive.tmp" "$archive"
      echo "$id" > "$archive.id"
    fi
    echo "$archive"
  fi
done
