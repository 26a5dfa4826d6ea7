// The challenges a 401 carries (RFC 6750 §3 for Bearer). Descriptions are quoted-strings:
// they may contain only printable ASCII without `"` and `\` (RFC 6750 §3), so anything
// else is replaced rather than escaped.

const REALM = "mcp-warden";

function quotedText(text: string): string {
  return text.replace(/[^\x20-\x21\x23-\x5b\x5d-\x7e]/g, "?").slice(0, 200);
}

/** A request with no token: RFC 6750 §3.1 says no error code then, only the scheme and realm. */
export function bearerChallengeWithoutToken(): string {
  return `Bearer realm="${REALM}"`;
}

/** A token that was presented and rejected. */
export function invalidTokenChallenge(description: string): string {
  return `Bearer realm="${REALM}", error="invalid_token", error_description="${quotedText(description)}"`;
}

/**
 * With `source: header` the caller is named by a gateway, not by a token the client could
 * fetch, so the challenge uses a scheme of our own: a Bearer challenge would send MCP
 * clients into an OAuth discovery that cannot succeed.
 */
export function headerChallenge(header: string, description: string): string {
  return `MCPWardenHeader realm="${REALM}", header="${quotedText(header)}", error_description="${quotedText(description)}"`;
}
