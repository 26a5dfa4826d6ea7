// Kubernetes name and label syntax, so a policy the API server would reject (or a
// selector that can never match) is reported when the policy is read.

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const LABEL_NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

export function objectNameProblem(name: string): string | undefined {
  if (name.length === 0) return "is required";
  if (name.length > 253 || !DNS_SUBDOMAIN.test(name)) {
    return `${JSON.stringify(name)} is not a valid name (lowercase letters, digits, '-' and '.', at most 253 characters)`;
  }
  return undefined;
}

export function namespaceProblem(namespace: string): string | undefined {
  if (namespace.length > 63 || !DNS_LABEL.test(namespace)) {
    return `${JSON.stringify(namespace)} is not a valid namespace (lowercase letters, digits and '-', at most 63 characters)`;
  }
  return undefined;
}

export function labelKeyProblem(key: string): string | undefined {
  const slash = key.lastIndexOf("/");
  const prefix = slash < 0 ? undefined : key.slice(0, slash);
  const name = slash < 0 ? key : key.slice(slash + 1);
  if (prefix !== undefined && (prefix.length > 253 || !DNS_SUBDOMAIN.test(prefix))) {
    return `${JSON.stringify(key)} is not a label key (its prefix must be a DNS subdomain)`;
  }
  if (name.length > 63 || !LABEL_NAME.test(name)) {
    return `${JSON.stringify(key)} is not a label key (at most 63 letters, digits, '-', '_' and '.', starting and ending alphanumeric)`;
  }
  return undefined;
}

export function labelValueProblem(value: string): string | undefined {
  if (value.length > 63 || !LABEL_VALUE.test(value)) {
    return `${JSON.stringify(value)} is not a label value (at most 63 letters, digits, '-', '_' and '.', starting and ending alphanumeric)`;
  }
  return undefined;
}

/**
 * Text as the start of a DNS label, for generated names (`Deploy_Prod` → `deploy-prod`):
 * lowercase, runs of other characters as one '-', at most `maxLength` characters, never
 * starting or ending with '-'; `fallback` when nothing is left.
 */
export function dnsLabelPrefix(text: string, maxLength: number, fallback: string): string {
  return (
    text
      .toLowerCase()
      .replace(/[^a-z0-9-]+/g, "-")
      .replace(/^-+|-+$/g, "")
      .slice(0, maxLength)
      .replace(/-+$/, "") || fallback
  );
}
