#!/usr/bin/env bash
# Builds what a local Kubernetes node runs beside the control plane — kubelet,
# kube-controller-manager, kube-scheduler, kube-proxy (k8s.io/kubernetes, through
# tools/kubernetes' replaces), CoreDNS and crictl (their own Go modules) and a static
# `pause` (tools/node/pause.c, gcc) — into a version-keyed cache outside the checkout,
# and prints the folder that holds them. Idempotent.
set -euo pipefail

log_tag=node
# shellcheck source=go-build.sh
source "$(dirname "${BASH_SOURCE[0]}")/go-build.sh"

bin_dir="$cache_root/node/k8s-$KUBERNETES_VERSION-coredns-$COREDNS_VERSION-crictl-$CRICTL_VERSION"
mkdir -p "$bin_dir"

for component in kubelet kube-controller-manager kube-scheduler kube-proxy; do
  go_build "$bin_dir" "$component" "$here/kubernetes" "k8s.io/kubernetes/cmd/$component" "$k8s_ldflags"
done
go_install "$bin_dir" coredns "github.com/coredns/coredns@$COREDNS_VERSION" \
  "-s -w -X github.com/coredns/coredns/coremain.GitCommit=$COREDNS_VERSION"
go_install "$bin_dir" crictl "sigs.k8s.io/cri-tools/cmd/crictl@$CRICTL_VERSION" \
  "-s -w -X sigs.k8s.io/cri-tools/pkg/version.Version=$CRICTL_VERSION"

# The pod sandbox's process (and the cluster namespace's init): rebuilt when its source changes.
pause_src="$here/node/pause.c"
pause_sum="$(sha256sum "$pause_src" | cut -c1-16)"
if [ "$(cat "$bin_dir/pause.source" 2>/dev/null)" != "$pause_sum" ] || [ ! -x "$bin_dir/pause" ]; then
  command -v gcc >/dev/null || { log "error: gcc is not on PATH; the static pause binary is built with it"; exit 1; }
  gcc -Os -Wall -Werror -static -o "$bin_dir/pause.tmp" "$pause_src"
  strip "$bin_dir/pause.tmp"
  mv "$bin_dir/pause.tmp" "$bin_dir/pause"
  echo "$pause_sum" > "$bin_dir/pause.source"
  log "built pause"
fi

echo "$bin_dir"
