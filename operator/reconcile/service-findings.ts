// Services that reach a protected pod's MCP server directly, around the sidecar: a
// port whose targetPort is the pod's upstream port (by number or by name) instead of
// the sidecar's `mcp-warden` port.
import type { Pod, Service } from "../kube-objects.ts";
import { serviceSelects } from "./label-selector.ts";
import { upstreamPort } from "./upstream-port.ts";

export interface UpstreamTargetFinding {
  service: Service;
  /** The Service port's name, or its number. */
  port: string;
  targetPort: string;
  pod: string;
}

export function servicesTargetingUpstream(services: readonly Service[], protectedPods: readonly Pod[]): UpstreamTargetFinding[] {
  const findings: UpstreamTargetFinding[] = [];
  for (const service of services) {
    for (const pod of protectedPods) {
      if (!serviceSelects(service.spec?.selector, pod.metadata?.labels)) continue;
      const upstream = upstreamPort(pod);
      if (upstream === undefined) continue;
      for (const port of service.spec?.ports ?? []) {
        const target = port.targetPort ?? port.port;
        const hits = typeof target === "number" ? target === upstream.number : /^[0-9]+$/.test(target) ? Number(target) === upstream.number : upstream.names.includes(target);
        if (hits) findings.push({ service, port: port.name ?? String(port.port), targetPort: String(target), pod: pod.metadata?.name ?? "" });
      }
      break; // one pod is enough to tell
    }
  }
  return findings;
}
