// The demo shows the sidecar's JSON logs as one readable line per decision (and per
// warning), so a person watching sees policy at work as agents call tools.

import { Writable } from "node:stream";
import type { DecisionKind } from "../../policy/index.ts";

const COLOURS = { allow: "\x1b[32m", refused: "\x1b[31m", limited: "\x1b[33m", dim: "\x1b[2m", reset: "\x1b[0m" } as const;

/** Each decision's colour: a new kind of decision must be given one here. */
const TONES: Record<DecisionKind, keyof typeof COLOURS> = {
  allow: "allow",
  deny: "refused",
  rate_limited: "limited",
  invalid_arguments: "refused",
  approval_required: "refused",
  definition_changed: "refused",
};

interface LogLine {
  level?: string;
  time?: string;
  msg?: string;
  audit?: string;
  tool?: string;
  decision?: string;
  mode?: string;
  rule?: string;
  reason?: string;
  caller?: string;
  [key: string]: unknown;
}

/** One line for a log record, or undefined for records the demo does not show. */
function describeLogLine(line: LogLine, colour: boolean): string | undefined {
  const paint = (code: keyof typeof COLOURS, text: string): string => (colour ? `${COLOURS[code]}${text}${COLOURS.reset}` : text);
  const time = typeof line.time === "string" ? line.time.slice(11, 19) : "--:--:--";
  if (line.audit === "decision") {
    const decision = String(line.decision ?? "?");
    const tone = Object.hasOwn(TONES, decision) ? TONES[decision as DecisionKind] : "refused";
    const audit = line.mode === "audit" ? " (audit only)" : "";
    const caller = line.caller === "" || line.caller === undefined ? "" : ` caller=${line.caller}`;
    const why = decision === "allow" ? "" : ` — ${line.reason ?? ""}`;
    return `${paint("dim", time)}  ${paint(tone, decision.toUpperCase().padEnd(17))} ${String(line.tool ?? "").padEnd(22)} ${paint("dim", `${line.rule ?? ""}${caller}${audit}`)}${why}`;
  }
  if (line.level === "warn" || line.level === "error" || line.level === "fatal") {
    const detail = typeof line.reason === "string" ? `: ${line.reason}` : "";
    return `${paint("dim", time)}  ${paint("refused", line.level.toUpperCase().padEnd(17))} ${line.msg ?? ""}${detail}`;
  }
  if (line.msg === "policy loaded") {
    return `${paint("dim", time)}  ${"POLICY".padEnd(17)} revision ${String(line["revision"] ?? "").slice(0, 12)} (${(line["policies"] as string[] | undefined)?.join(", ") ?? ""})`;
  }
  return undefined;
}

/** A log destination that prints described lines. */
export function decisionLineWriter(out: NodeJS.WritableStream, colour: boolean): Writable {
  let pending = "";
  return new Writable({
    write(chunk: Buffer | string, _encoding, done) {
      pending += chunk.toString();
      let newline: number;
      while ((newline = pending.indexOf("\n")) >= 0) {
        const text = pending.slice(0, newline);
        pending = pending.slice(newline + 1);
        try {
          const described = describeLogLine(JSON.parse(text) as LogLine, colour);
          if (described !== undefined) out.write(`${described}\n`);
        } catch {
          out.write(`${text}\n`);
        }
      }
      done();
    },
  });
}
