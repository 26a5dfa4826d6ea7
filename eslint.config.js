import js from "@eslint/js";
import tseslint from "typescript-eslint";

// Node built-ins that reach outside the process (files, network, processes, the clock's
// timers, the host): the pure folders (policy/, protocol/) may not import them.
const IO_BUILTINS = [
  "fs",
  "fs/promises",
  "net",
  "tls",
  "http",
  "https",
  "http2",
  "dgram",
  "dns",
  "dns/promises",
  "child_process",
  "cluster",
  "worker_threads",
  "os",
  "process",
  "readline",
  "repl",
  "inspector",
  "timers",
  "timers/promises",
  "perf_hooks",
];

/** A relative import of a top-level folder, from any depth (`../sidecar/x.ts`, `../../operator/x.ts`). */
const folder = (name) => `^(\\.\\./)+${name}/`;

/** no-restricted-imports for `files`: none of `folders`, and (pure) no I/O built-ins. */
const boundary = (files, folders, { pure = false, ignores = [] } = {}) => ({
  files,
  ignores,
  rules: {
    "no-restricted-imports": [
      "error",
      {
        ...(pure ? { paths: IO_BUILTINS.flatMap((name) => [name, `node:${name}`]).map((name) => ({ name, message: "policy/ and protocol/ stay free of I/O" })) } : {}),
        patterns: folders.map((name) => ({ regex: folder(name), message: `${files[0].split("/")[0]}/ does not import ${name}/ (DEVELOPERS.md "Layout")` })),
      },
    ],
  },
});

export default tseslint.config(
  { ignores: ["dist/**", "node_modules/**", ".mcp-warden/**", "bench/results/**", "coverage/**"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      globals: { process: "readonly", console: "readonly", Buffer: "readonly", setTimeout: "readonly", clearTimeout: "readonly", setInterval: "readonly", clearInterval: "readonly", URL: "readonly", AbortController: "readonly", TextEncoder: "readonly", TextDecoder: "readonly", fetch: "readonly", structuredClone: "readonly", performance: "readonly", setImmediate: "readonly", queueMicrotask: "readonly", AbortSignal: "readonly", Response: "readonly", Request: "readonly", Headers: "readonly" },
    },
    rules: {
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_", caughtErrorsIgnorePattern: "^_" }],
      "@typescript-eslint/consistent-type-imports": "error",
      "no-constant-condition": ["error", { checkLoops: false }],
    },
  },
  // Who may import whom (DEVELOPERS.md "Layout"). The sidecar and the operator meet only
  // in protocol/ (the wire contract) and policy/; cli/, bench/ and test/ compose them.
  boundary(["operator/**/*.ts"], ["sidecar", "cli"]),
  boundary(["sidecar/**/*.ts"], ["operator", "cli"]),
  // Pure: a test beside the code may still read its fixtures.
  boundary(["policy/**/*.ts"], ["sidecar", "operator", "cli", "protocol"], { pure: true, ignores: ["**/*.test.ts"] }),
  boundary(["policy/**/*.test.ts"], ["sidecar", "operator", "cli", "protocol"]),
  boundary(["protocol/**/*.ts"], ["sidecar", "operator", "cli"], { pure: true, ignores: ["**/*.test.ts"] }),
  // OpenTelemetry for both processes: neither process's code, nor the CLI.
  boundary(["tracing/**/*.ts"], ["sidecar", "operator", "cli"]),
  {
    // The package's command shims: CommonJS in syntax every Node.js parses (packaging/bin/require-node.cjs).
    files: ["packaging/**/*.cjs"],
    languageOptions: { sourceType: "commonjs", globals: { require: "readonly", module: "writable" } },
    rules: { "@typescript-eslint/no-require-imports": "off", "no-var": "off" },
  },
);
