import { writeFileSync } from "node:fs";
import { dump } from "js-yaml";

export interface KubeconfigSpec {
  server: string;
  caCertPem: string;
  user: string;
  certPem?: string;
  keyPem?: string;
  token?: string;
}

/** Writes a single-context kubeconfig with embedded credentials (mode 0600). */
export function writeKubeconfig(path: string, spec: KubeconfigSpec): void {
  const b64 = (s: string): string => Buffer.from(s).toString("base64");
  const user: Record<string, string> = {};
  if (spec.certPem) user["client-certificate-data"] = b64(spec.certPem);
  if (spec.keyPem) user["client-key-data"] = b64(spec.keyPem);
  if (spec.token) user.token = spec.token;
  const config = {
    apiVersion: "v1",
    kind: "Config",
    clusters: [{ name: "mcp-warden-test", cluster: { server: spec.server, "certificate-authority-data": b64(spec.caCertPem) } }],
    users: [{ name: spec.user, user }],
    contexts: [{ name: spec.user, context: { cluster: "mcp-warden-test", user: spec.user } }],
    "current-context": spec.user,
  };
  writeFileSync(path, dump(config), { mode: 0o600 });
}
