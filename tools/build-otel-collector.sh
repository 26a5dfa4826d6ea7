#!/usr/bin/env bash
# Builds a minimal OpenTelemetry Collector (the otlp receiver and the file exporter,
# tools/otel-collector/) from the Go module proxy into a version-keyed cache outside the
# checkout, and prints the binary's path. The tracing tests run it as their OTLP receiver.
# Idempotent: a binary already in the cache is not rebuilt (about 90 s cold on 2 cores).
set -euo pipefail

log_tag=otel-collector
# shellcheck source=go-build.sh
source "$(dirname "${BASH_SOURCE[0]}")/go-build.sh"

bin_dir="$cache_root/otel-collector/$OTEL_COLLECTOR_VERSION-$(sha256sum "$here/otel-collector/go.sum" "$here/otel-collector/main.go" | sha256sum | cut -c1-12)"
mkdir -p "$bin_dir"
go_build "$bin_dir" otelcol "$here/otel-collector" . "-s -w"
echo "$bin_dir/otelcol"
