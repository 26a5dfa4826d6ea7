// The MCP server's own port, from the pod's mcpwarden.dev/upstream-port annotation: a
// number, or the name of one of the pod's container ports.
import type { Pod } from "../kube-objects.ts";
import { UPSTREAM_PORT_ANNOTATION } from "../well-known.ts";

export interface UpstreamPort {
  number: number;
  /** Names of container ports with that number (a Service may target a port by name). */
  names: string[];
}

export function upstreamPort(pod: Pod): UpstreamPort | undefined {
  const written = pod.metadata?.annotations?.[UPSTREAM_PORT_ANNOTATION]?.trim();
  if (written === undefined || written === "") return undefined;
  const ports = (pod.spec?.containers ?? []).flatMap((container) => container.ports ?? []);
  let number: number | undefined;
  if (/^[0-9]+$/.test(written)) number = Number(written);
  else number = ports.find((port) => port.name === written)?.containerPort;
  if (number === undefined || !Number.isInteger(number) || number < 1 || number > 65535) return undefined;
  const names = ports.filter((port) => port.containerPort === number && port.name !== undefined).map((port) => port.name as string);
  return { number, names };
}
