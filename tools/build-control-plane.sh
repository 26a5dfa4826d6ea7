#!/usr/bin/env bash
# Builds etcd, kube-apiserver, kubectl and helm from the Go module proxy into a
# version-keyed cache outside the checkout, and prints the folder that holds them.
# Idempotent: a binary already in the cache is not rebuilt.
set -euo pipefail

log_tag=control-plane
# shellcheck source=go-build.sh
source "$(dirname "${BASH_SOURCE[0]}")/go-build.sh"

bin_dir="$cache_root/control-plane/k8s-$KUBERNETES_VERSION-etcd-$ETCD_VERSION-helm-$HELM_VERSION"
mkdir -p "$bin_dir"

go_build "$bin_dir" etcd "$here/etcd" go.etcd.io/etcd/server/v3 "-s -w"
go_build "$bin_dir" kube-apiserver "$here/kubernetes" k8s.io/kubernetes/cmd/kube-apiserver "$k8s_ldflags"
go_build "$bin_dir" kubectl "$here/kubernetes" k8s.io/kubernetes/cmd/kubectl "$k8s_ldflags"

helm_minor="${HELM_VERSION#v3.}"; helm_minor="${helm_minor%%.*}"
go_install "$bin_dir" helm "helm.sh/helm/v3/cmd/helm@$HELM_VERSION" "-s -w \
  -X helm.sh/helm/v3/internal/version.version=$HELM_VERSION \
  -X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMajor=1 \
  -X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMinor=$k8s_minor \
  -X helm.sh/helm/v3/pkg/chartutil.k8sVersionMajor=1 \
  -X helm.sh/helm/v3/pkg/chartutil.k8sVersionMinor=$k8s_minor"

echo "$bin_dir"
