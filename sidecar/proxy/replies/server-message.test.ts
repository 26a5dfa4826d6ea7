import { describe, expect, it } from "vitest";
import { snapshotFromYaml } from "../../../test/support/mcp-proxy-harness.ts";
import { ResponseWatch } from "./response-watch.ts";
import { messageContext, processServerMessage } from "./server-message.ts";
import { ToolCatalog } from "./tool-catalog.ts";

const table = snapshotFromYaml(`
apiVersion: mcpwarden.dev/v1alpha1
kind: McpPolicy
metadata: { name: p, namespace: agents }
spec:
  default: deny
  tools: { echo: {} }
`).table;

function context(watch: ResponseWatch) {
  return messageContext({ table: () => table, catalog: new ToolCatalog(), definitions: undefined, limits: { maxDepth: 64 } }, [watch], () => undefined);
}

describe("processServerMessage", () => {
  it("filters a watched tools/list answer in a batch reply", () => {
    const watch = new ResponseWatch();
    watch.add(2, "tools/list");
    const text = '[{"jsonrpc":"2.0","id":1,"result":{}},{"jsonrpc":"2.0","id":2,"result":{"tools":[{"name":"echo","inputSchema":{"type":"object"}},{"name":"rm","inputSchema":{"type":"object"}}]}}]';
    const outcome = processServerMessage(text, context(watch));
    expect(outcome.responseIds).toEqual([1, 2]);
    expect((JSON.parse(outcome.text) as { result: { tools: { name: string }[] } }[])[1]?.result.tools.map((tool) => tool.name)).toEqual(["echo"]);
  });

  it("refuses to filter a tools/list answer in a batch whose text has duplicate keys: another parser could list another tool", () => {
    const watch = new ResponseWatch();
    watch.add(2, "tools/list");
    // JSON.parse keeps the last "tools"; a parser that keeps the first would list rm.
    const text = '[{"jsonrpc":"2.0","id":2,"result":{"tools":[{"name":"rm","inputSchema":{}}],"tools":[{"name":"echo","inputSchema":{}}]}}]';
    const outcome = processServerMessage(text, context(watch));
    expect(JSON.parse(outcome.text)).toEqual([{ jsonrpc: "2.0", id: 2, error: { code: -32603, message: expect.stringContaining("not strict JSON") } }]);
  });
});
