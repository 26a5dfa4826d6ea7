// What the injector needs to know about the sidecar it adds. The chart fills it in
// through the operator's flags; the defaults suit a development cluster.
import type { RateLimitFailureMode } from "../../protocol/index.ts";
import type { SidecarTunableValues } from "../../protocol/sidecar-tunables.ts";

export interface SidecarResources {
  requests?: Record<string, string>;
  limits?: Record<string, string>;
}

/** A Secret key in the pod's own namespace; the kubelet reads it, the operator never does. */
interface SecretKeyRef {
  name: string;
  key: string;
}

/**
 * Shared rate limits: the Redis every sidecar counts in, as a URL in the pod spec (no
 * credentials) or from a Secret, and what decides while Redis is unreachable.
 */
export type SidecarRedis = ({ url: string } | { secret: SecretKeyRef }) & { failureMode: RateLimitFailureMode };

export interface InjectionConfig {
  image: string;
  imagePullPolicy: "Always" | "IfNotPresent" | "Never";
  /** The policy stream's URL as sidecars reach it (env MCPWARDEN_CONTROL_PLANE). */
  controlPlaneUrl: string;
  /** The CA that signed the stream's certificate (env MCPWARDEN_CA_PEM). */
  caPem: string;
  resources: SidecarResources;
  /** Numeric, so the kubelet can check runAsNonRoot without reading the image. */
  runAsUser: number;
  /** Namespaces never injected: kube-system and the operator's own. */
  skipNamespaces: readonly string[];
  /** Lifetime of the projected token; the kubelet refreshes it at 80 %. */
  tokenExpirationSeconds: number;
  logLevel: string;
  /** Unset: each sidecar counts rate limits in memory. */
  redis?: SidecarRedis;
  /** OTEL_* variables for every sidecar (`--sidecar-otel`); unset: sidecars export no traces. */
  tracingEnv?: Readonly<Record<string, string>>;
  /** Caps and timeouts set for every sidecar (`--sidecar-max-sessions`, …); pods may override them by annotation. */
  sidecarTunables: SidecarTunableValues;
  /** Paths forwarded besides the MCP endpoints (`--sidecar-forward-path`), normalised; a pod's annotation replaces them. */
  forwardPaths: readonly string[];
}

const DEFAULT_SIDECAR_RESOURCES: SidecarResources = {
  requests: { cpu: "50m", memory: "64Mi" },
  limits: { memory: "256Mi" },
};

export function defaultInjectionConfig(overrides: Partial<InjectionConfig> & Pick<InjectionConfig, "image" | "controlPlaneUrl" | "caPem">): InjectionConfig {
  return {
    imagePullPolicy: "IfNotPresent",
    resources: DEFAULT_SIDECAR_RESOURCES,
    runAsUser: 65532,
    skipNamespaces: ["kube-system"],
    tokenExpirationSeconds: 3600,
    logLevel: "info",
    sidecarTunables: {},
    forwardPaths: [],
    ...overrides,
  };
}

/** The security context of every container the injector adds: non-root, nothing to escalate, read-only root. */
export function restrictedSecurityContext(config: Pick<InjectionConfig, "runAsUser">): Record<string, unknown> {
  return {
    runAsNonRoot: true,
    runAsUser: config.runAsUser,
    runAsGroup: config.runAsUser,
    readOnlyRootFilesystem: true,
    allowPrivilegeEscalation: false,
    capabilities: { drop: ["ALL"] },
    seccompProfile: { type: "RuntimeDefault" },
  };
}
