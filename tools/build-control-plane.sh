#!/usr/bin/env bash
# Builds etcd, kube-apiserver, kubectl and helm from the Go module proxy into a
# version-keyed cache outside the checkout, and prints the folder that holds them.
# Idempotent: a binary already in the cache is not rebuilt.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=versions.env
source "$here/versions.env"

cache_root="${MCPWARDEN_CACHE:-$HOME/.cache/mcp-warden}"
bin_dir="$cache_root/control-plane/k8s-$KUBERNETES_VERSION-etcd-$ETCD_VERSION-helm-$HELM_VERSION"
mkdir -p "$bin_dir"

log() { printf '[control-plane] %s\n' "$*" >&2; }

need_build=()
for b in etcd kube-apiserver kubectl helm; do
  [ -x "$bin_dir/$b" ] || need_build+=("$b")
done
if [ ${#need_build[@]} -eq 0 ]; then
  echo "$bin_dir"
  exit 0
fi

command -v go >/dev/null || { log "error: go is not on PATH; the control plane is built from Go modules"; exit 1; }

# A cold build downloads ~1.5 GiB of modules and writes ~4 GiB of build cache.
min_free_kib=$((6 * 1024 * 1024))
gomodcache="$(go env GOMODCACHE)"
mkdir -p "$gomodcache"
free_kib=$(df -Pk "$gomodcache" | awk 'NR==2 {print $4}')
if [ "$free_kib" -lt "$min_free_kib" ]; then
  log "error: only $((free_kib / 1024)) MiB free under $gomodcache; building the control plane needs at least $((min_free_kib / 1024)) MiB"
  exit 1
fi

export GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS=-mod=mod

k8s_minor="${KUBERNETES_VERSION#v1.}"; k8s_minor="${k8s_minor%%.*}"
k8s_ldflags="-s -w \
 -X k8s.io/component-base/version.gitVersion=$KUBERNETES_VERSION \
 -X k8s.io/component-base/version.gitMajor=1 \
 -X k8s.io/component-base/version.gitMinor=$k8s_minor \
 -X k8s.io/component-base/version.gitTreeState=clean \
 -X k8s.io/client-go/pkg/version.gitVersion=$KUBERNETES_VERSION \
 -X k8s.io/client-go/pkg/version.gitMajor=1 \
 -X k8s.io/client-go/pkg/version.gitMinor=$k8s_minor"

build() { # name, module dir, package, ldflags
  local name="$1" dir="$2" pkg="$3" ldflags="$4" start
  [ -x "$bin_dir/$name" ] && return 0
  start=$(date +%s)
  log "building $name ($pkg) — a cold build takes several minutes on 2 cores"
  (cd "$dir" && go build -trimpath -ldflags "$ldflags" -o "$bin_dir/$name.tmp" "$pkg")
  mv "$bin_dir/$name.tmp" "$bin_dir/$name"
  log "built $name in $(( $(date +%s) - start ))s"
}

build etcd "$here/etcd" go.etcd.io/etcd/server/v3 "-s -w"
build kube-apiserver "$here/kubernetes" k8s.io/kubernetes/cmd/kube-apiserver "$k8s_ldflags"
build kubectl "$here/kubernetes" k8s.io/kubernetes/cmd/kubectl "$k8s_ldflags"

if [ ! -x "$bin_dir/helm" ]; then
  start=$(date +%s)
  log "building helm $HELM_VERSION"
  helm_minor="${HELM_VERSION#v3.}"; helm_minor="${helm_minor%%.*}"
  GOBIN="$bin_dir/.helm-tmp" GOFLAGS= go install -trimpath \
    -ldflags "-s -w -X helm.sh/helm/v3/internal/version.version=$HELM_VERSION \
      -X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMajor=1 \
      -X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMinor=$k8s_minor \
      -X helm.sh/helm/v3/pkg/chartutil.k8sVersionMajor=1 \
      -X helm.sh/helm/v3/pkg/chartutil.k8sVersionMinor=$k8s_minor" \
    "helm.sh/helm/v3/cmd/helm@$HELM_VERSION"
  mv "$bin_dir/.helm-tmp/helm" "$bin_dir/helm"
  rmdir "$bin_dir/.helm-tmp"
  log "built helm in $(( $(date +%s) - start ))s"
fi

echo "$bin_dir"
