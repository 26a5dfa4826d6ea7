// The proxy's spans (loaded only when tracing is on): one SERVER span per client POST,
// continuing the client's W3C `traceparent` or starting a trace, named and attributed as
// OpenTelemetry's MCP conventions suggest (`mcp.method.name`, `gen_ai.tool.name`) plus the
// enforced decision, its policy and rule; one CLIENT child span for the request forwarded
// upstream, whose `traceparent` travels with it. Argument values never become attributes.
// Contexts are passed explicitly: no global context manager, no AsyncLocalStorage.

import type { IncomingHttpHeaders } from "node:http";
import { defaultTextMapGetter, defaultTextMapSetter, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Attributes, type Context, type Span } from "@opentelemetry/api";
import type { Decision } from "../../policy/index.ts";
import type { Tracing } from "../../tracing/load-tracing.ts";
import type { RequestTrace, RequestTracer, UpstreamTrace } from "../contracts.ts";

/** A decision as span attributes: what was decided and by which policy and rule, never why in the caller's words. */
function decisionAttributes(tool: string, decision: Decision): Attributes {
  return { "gen_ai.tool.name": tool, "mcpwarden.decision": decision.decision, "mcpwarden.policy": decision.policy, "mcpwarden.rule": decision.rule };
}

export function createRequestTracer(tracing: Tracing): RequestTracer {
  const { tracer, propagator } = tracing;
  return {
    startRequest(headers: IncomingHttpHeaders): RequestTrace {
      const parent = propagator.extract(ROOT_CONTEXT, headers, defaultTextMapGetter);
      const span = tracer.startSpan("mcp", { kind: SpanKind.SERVER }, parent);
      const spanContext = trace.setSpan(parent, span);
      const decisions: { tool: string; decision: Decision }[] = [];
      let upstream: OtelUpstreamTrace | undefined;
      let name = "mcp";
      let ended = false;
      return {
        identify(method, tool) {
          name = tool === undefined ? method : `${method} ${tool}`;
          span.updateName(name);
          span.setAttribute("mcp.method.name", method);
          if (tool !== undefined) span.setAttribute("gen_ai.tool.name", tool);
        },
        decided(tool, decision) {
          decisions.push({ tool, decision });
          span.addEvent("mcpwarden.decision", decisionAttributes(tool, decision));
        },
        upstream(origin) {
          upstream?.end(undefined);
          upstream = new OtelUpstreamTrace(tracing, name, spanContext, origin);
          return upstream;
        },
        end(statusCode) {
          if (ended) return;
          ended = true;
          upstream?.end(undefined);
          // One call: its decision is the span's. A batch: each decision is an event.
          if (decisions.length === 1) span.setAttributes(decisionAttributes(decisions[0]!.tool, decisions[0]!.decision));
          else if (decisions.length > 1) span.setAttribute("mcpwarden.decisions", decisions.length);
          span.setAttribute("http.response.status_code", statusCode);
          if (statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
          span.end();
        },
      };
    },
  };
}

class OtelUpstreamTrace implements UpstreamTrace {
  readonly headers: Record<string, string> = {};
  readonly #span: Span;
  #ended = false;

  constructor(tracing: Tracing, name: string, parentContext: Context, origin: string) {
    const url = URL.canParse(origin) ? new URL(origin) : undefined;
    this.#span = tracing.tracer.startSpan(
      name,
      { kind: SpanKind.CLIENT, attributes: url === undefined ? {} : { "server.address": url.hostname, "server.port": Number(url.port || (url.protocol === "https:" ? 443 : 80)) } },
      parentContext,
    );
    tracing.propagator.inject(trace.setSpan(parentContext, this.#span), this.headers, defaultTextMapSetter);
  }

  end(statusCode: number | undefined, failure?: string): void {
    if (this.#ended) return;
    this.#ended = true;
    if (statusCode !== undefined) this.#span.setAttribute("http.response.status_code", statusCode);
    if (failure !== undefined) this.#span.setStatus({ code: SpanStatusCode.ERROR, message: failure });
    else if (statusCode !== undefined && statusCode >= 500) this.#span.setStatus({ code: SpanStatusCode.ERROR });
    this.#span.end();
  }
}
