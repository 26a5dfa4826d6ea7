//go:build tools

// Package tools pins Prometheus for the local cluster's monitoring stack
// (tools/build-prometheus-operator.sh): Debian's Prometheus has no Kubernetes discovery.
package tools

import (
	_ "github.com/prometheus/prometheus/cmd/prometheus"
)
