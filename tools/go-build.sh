#!/usr/bin/env bash
# Shared by build-control-plane.sh and build-node.sh (sourced, not run): the version-keyed
# cache, the Kubernetes version stamps and one `go build`/`go install` step that puts a
# binary into the cache only when it is not there yet.

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=versions.env
source "$here/versions.env"

cache_root="${MCPWARDEN_CACHE:-$HOME/.cache/mcp-warden}"

log() { printf '[%s] %s\n' "$log_tag" "$*" >&2; }

# Checked once, before the first binary that needs building: go on PATH and enough disk.
go_ready=0
require_go() {
  [ "$go_ready" = 1 ] && return 0
  command -v go >/dev/null || { log "error: go is not on PATH; these binaries are built from Go modules"; exit 1; }
  # A cold build downloads ~1.5 GiB of modules and writes ~4 GiB of build cache.
  local min_free_kib=$((6 * 1024 * 1024)) gomodcache free_kib
  gomodcache="$(go env GOMODCACHE)"
  mkdir -p "$gomodcache"
  free_kib=$(df -Pk "$gomodcache" | awk 'NR==2 {print $4}')
  if [ "$free_kib" -lt "$min_free_kib" ]; then
    log "error: only $((free_kib / 1024)) MiB free under $gomodcache; the build needs at least $((min_free_kib / 1024)) MiB"
    exit 1
  fi
  export GOTOOLCHAIN=local CGO_ENABLED=0
  go_ready=1
}

k8s_minor="${KUBERNETES_VERSION#v1.}"; k8s_minor="${k8s_minor%%.*}"
# shellcheck disable=SC2034 # used by the scripts that source this file
k8s_ldflags="-s -w \
 -X k8s.io/component-base/version.gitVersion=$KUBERNETES_VERSION \
 -X k8s.io/component-base/version.gitMajor=1 \
 -X k8s.io/component-base/version.gitMinor=$k8s_minor \
 -X k8s.io/component-base/version.gitTreeState=clean \
 -X k8s.io/client-go/pkg/version.gitVersion=$KUBERNETES_VERSION \
 -X k8s.io/client-go/pkg/version.gitMajor=1 \
 -X k8s.io/client-go/pkg/version.gitMinor=$k8s_minor"

# go_build BIN_DIR NAME MODULE_DIR PACKAGE LDFLAGS: `go build` inside one of tools/' modules.
go_build() {
  local bin_dir="$1" name="$2" dir="$3" pkg="$4" ldflags="$5" start
  [ -x "$bin_dir/$name" ] && return 0
  require_go
  start=$(date +%s)
  log "building $name ($pkg) — a cold build takes up to several minutes on 2 cores"
  (cd "$dir" && GOFLAGS=-mod=mod go build -trimpath -ldflags "$ldflags" -o "$bin_dir/$name.tmp" "$pkg")
  mv "$bin_dir/$name.tmp" "$bin_dir/$name"
  log "built $name in $(( $(date +%s) - start ))s"
}

# go_install BIN_DIR NAME PACKAGE@VERSION LDFLAGS: a module with no replace lines.
go_install() {
  local bin_dir="$1" name="$2" pkg="$3" ldflags="$4" start tmp
  [ -x "$bin_dir/$name" ] && return 0
  require_go
  start=$(date +%s)
  log "building $name ($pkg)"
  tmp="$bin_dir/.$name-tmp"
  GOBIN="$tmp" GOFLAGS= go install -trimpath -ldflags "$ldflags" "$pkg"
  mv "$tmp/$(basename "${pkg%@*}")" "$bin_dir/$name"
  rmdir "$tmp"
  log "built $name in $(( $(date +%s) - start ))s"
}
