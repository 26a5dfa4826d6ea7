#!/usr/bin/env bash
# Builds the Prometheus Operator, its config reloader and Prometheus (the release the
# operator is built against: Debian's Prometheus has no Kubernetes discovery) from the Go
# module proxy (tools/prometheus-operator/, tools/prometheus/) into a version-keyed cache outside the checkout, copies the
# release's CRDs and example RBAC from the same module download beside them, and prints the
# folder. The end-to-end suite builds its monitoring images from it. Idempotent.
set -euo pipefail

log_tag=prometheus-operator
# shellcheck source=go-build.sh
source "$(dirname "${BASH_SOURCE[0]}")/go-build.sh"

bin_dir="$cache_root/prometheus-operator/$PROMETHEUS_OPERATOR_VERSION-prometheus-$PROMETHEUS_VERSION"
mkdir -p "$bin_dir"
module=github.com/prometheus-operator/prometheus-operator
go_build "$bin_dir" operator "$here/prometheus-operator" "$module/cmd/operator" "-s -w"
go_build "$bin_dir" prometheus-config-reloader "$here/prometheus-operator" "$module/cmd/prometheus-config-reloader" "-s -w"
# Without the web UI's assets (built by npm, not in the module): the API and /metrics serve.
go_build "$bin_dir" prometheus "$here/prometheus" github.com/prometheus/prometheus/cmd/prometheus \
  "-s -w -X github.com/prometheus/common/version.Version=${PROMETHEUS_VERSION#v}"

if [ ! -f "$bin_dir/manifests/.complete" ]; then
  require_go
  source_dir="$(cd "$here/prometheus-operator" && go mod download -json "$module@$PROMETHEUS_OPERATOR_VERSION" | sed -n 's/^\t"Dir": "\(.*\)",$/\1/p')"
  [ -d "$source_dir/example" ] || { log "error: no example/ in the module download of $module@$PROMETHEUS_OPERATOR_VERSION"; exit 1; }
  rm -rf "$bin_dir/manifests"
  mkdir -p "$bin_dir/manifests/crds" "$bin_dir/manifests/operator" "$bin_dir/manifests/prometheus"
  cp "$source_dir"/example/prometheus-operator-crd/*.yaml "$bin_dir/manifests/crds/"
  cp "$source_dir"/example/rbac/prometheus-operator/prometheus-operator-{cluster-role,cluster-role-binding,service-account,deployment}.yaml "$bin_dir/manifests/operator/"
  cp "$source_dir"/example/rbac/prometheus/prometheus-{cluster-role,cluster-role-binding,service-account}.yaml "$bin_dir/manifests/prometheus/"
  chmod -R u+w "$bin_dir/manifests"
  touch "$bin_dir/manifests/.complete"
fi
echo "$bin_dir"
