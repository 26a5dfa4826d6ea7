// Writes a policy as the YAML a user would `kubectl apply` (what `policy import` prints).

import { dump } from "js-yaml";
import type { McpPolicy } from "./model.ts";

export function renderPolicyYaml(policy: McpPolicy): string {
  // A JSON round trip drops undefined fields and gives records without prototype a plain one.
  const plain = JSON.parse(JSON.stringify(policy)) as unknown;
  return dump(plain, { noRefs: true, lineWidth: -1 });
}
