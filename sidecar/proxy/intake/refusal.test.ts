import { describe, expect, it } from "vitest";
import { TOOL_NOT_FOUND } from "../../../policy/index.ts";
import { refusalText } from "./refusal.ts";

describe("refusalText", () => {
  const limited = (retryAfterSeconds: number) =>
    refusalText("run", { decision: "rate_limited", policy: "agents/p", rule: 'tools["run"].limits[0]', reason: "rate limit runs reached: at most 10 calls per minute per grant", retryAfterSeconds });

  it("states the retry time once, in seconds, singular for one", () => {
    expect(limited(59)).toBe('The call to tool "run" was rate limited by policy agents/p (tools["run"].limits[0]): rate limit runs reached: at most 10 calls per minute per grant. Retry after 59 seconds.');
    expect(limited(1)).toMatch(/Retry after 1 second\.$/);
    expect(limited(59).match(/retry/gi)).toHaveLength(1);
  });

  it("says a tool the agent may not know of is not found, naming no policy", () => {
    expect(refusalText("secret", TOOL_NOT_FOUND)).toBe('Tool "secret" not found.');
  });
});
