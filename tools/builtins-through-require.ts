// An esbuild plugin for the split ES-module build (ADR 11): Node's built-in modules imported
// with `import` are loaded with require() instead. Importing a built-in as an ES module
// builds its namespace from every export, so each lazy getter runs: `node:http`'s WebSocket,
// CloseEvent and MessageEvent load Node's internal fetch (undici, zlib, web streams),
// `node:fs`'s `promises` loads fs/promises and readline, `node:crypto`'s `webcrypto` the
// whole WebCrypto implementation, `node:tls`'s `rootCertificates` the CA store. require()
// runs none of them: 13 MB less RSS for a sidecar that only imports node:http
// (docs/architecture.md "What the sidecar loads").
//
// Each import of a built-in becomes a small module that requires it and re-exports its
// plain values; a getter is not re-exported, so a named import of one fails the build
// rather than running the getter at start (and so does `ns.getter` after `import * as ns`
// in our code: build-dist.ts makes esbuild's import-is-undefined an error). Not checked:
// such a property read in a dependency, or on a dynamic import's namespace — undefined at
// run time (the one in today's bundle, pkce-challenge's `webcrypto`, is unreachable on
// Node 24, which has `globalThis.crypto`).

import { builtinModules, createRequire } from "node:module";
import type { Plugin } from "esbuild";

const requireBuiltin = createRequire(import.meta.url);
const BUILTINS = new Set(builtinModules);
/** The banner's createRequire comes from node:module, imported as an ES module. */
const KEPT_AS_IMPORT = new Set(["module"]);
const NAMESPACE = "builtin-through-require";
const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;

export const builtinsThroughRequire: Plugin = {
  name: "builtins-through-require",
  setup(build) {
    build.onResolve({ filter: /^(node:)?[a-z_][a-z_0-9/]*$/ }, (args) => {
      if (args.kind !== "import-statement" && args.kind !== "dynamic-import") return undefined;
      const name = args.path.replace(/^node:/, "");
      if (!BUILTINS.has(name) || KEPT_AS_IMPORT.has(name)) return undefined;
      return { path: name, namespace: NAMESPACE };
    });
    build.onLoad({ filter: /.*/, namespace: NAMESPACE }, (args) => {
      const exported = requireBuiltin(`node:${args.path}`) as object;
      const names = Object.entries(Object.getOwnPropertyDescriptors(exported))
        .filter(([name, descriptor]) => "value" in descriptor && name !== "default" && IDENTIFIER.test(name))
        .map(([name]) => name);
      const lines = [`const builtin = require(${JSON.stringify(`node:${args.path}`)});`, "export default builtin;", ...names.map((name) => `export const ${name} = builtin.${name};`)];
      return { contents: lines.join("\n"), loader: "js" };
    });
  },
};
