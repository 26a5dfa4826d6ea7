// Preloaded with `node --import` into a process under test: appends every module URL it
// resolves under node_modules/@opentelemetry/ to the file MCPWARDEN_RECORD_LOADS names, so
// a test can tell whether the process loaded OpenTelemetry at all.

import { appendFileSync } from "node:fs";
import { registerHooks } from "node:module";

const file = process.env["MCPWARDEN_RECORD_LOADS"];
if (file !== undefined) {
  registerHooks({
    resolve(specifier, context, nextResolve) {
      const resolved = nextResolve(specifier, context);
      if (resolved.url.includes("/node_modules/@opentelemetry/")) appendFileSync(file, `${resolved.url}\n`);
      return resolved;
    },
  });
}
