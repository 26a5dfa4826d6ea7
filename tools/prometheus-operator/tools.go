//go:build tools

// Package tools pins the Prometheus Operator and its config reloader, which the local
// cluster's monitoring stack runs (tools/build-monitoring.sh).
package tools

import (
	_ "github.com/prometheus-operator/prometheus-operator/cmd/operator"
	_ "github.com/prometheus-operator/prometheus-operator/cmd/prometheus-config-reloader"
)
