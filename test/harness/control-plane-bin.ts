import { execFileSync } from "node:child_process";
import { packageRoot as repoRoot } from "../../cli/package-root.ts";
import { join } from "node:path";

function builtBy(script: string, fromEnv: string | undefined): string {
  if (fromEnv) return fromEnv;
  return execFileSync(join(repoRoot(), "tools", script), { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] }).trim();
}

/**
 * The folder holding etcd, kube-apiserver, kubectl and helm: from
 * MCPWARDEN_CONTROL_PLANE_BIN (the Makefile sets it), else from the build script,
 * which returns at once when the binaries are cached.
 */
export function controlPlaneBinDir(): string {
  return builtBy("build-control-plane.sh", process.env.MCPWARDEN_CONTROL_PLANE_BIN);
}

/** The folder holding kubelet, kube-proxy, kube-controller-manager, kube-scheduler, coredns, crictl and pause (MCPWARDEN_NODE_BIN or tools/build-node.sh). */
export function nodeBinDir(): string {
  return builtBy("build-node.sh", process.env.MCPWARDEN_NODE_BIN);
}

/** The minimal OpenTelemetry Collector the tracing tests export to (MCPWARDEN_OTEL_COLLECTOR_BIN or tools/build-otel-collector.sh). */
export function otelCollectorBin(): string {
  return builtBy("build-otel-collector.sh", process.env.MCPWARDEN_OTEL_COLLECTOR_BIN);
}

/** The Prometheus Operator, its config reloader, CRDs and RBAC (MCPWARDEN_PROMETHEUS_OPERATOR_BIN or tools/build-prometheus-operator.sh). */
export function prometheusOperatorBinDir(): string {
  return builtBy("build-prometheus-operator.sh", process.env.MCPWARDEN_PROMETHEUS_OPERATOR_BIN);
}
