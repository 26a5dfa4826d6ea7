#!/usr/bin/env node
"use strict";
require("./require-node.cjs")("kubectl-mcpwarden");
// The build split into chunks (ADR 11): only what this command reaches is loaded.
import("../lib/bundle-main.mjs").then(
  function (entry) {
    return entry.run("kubectl-mcpwarden", process.argv.slice(2));
  },
  function (error) {
    process.stderr.write("kubectl-mcpwarden: " + (error && error.message ? error.message : String(error)) + "\n");
    process.exit(1);
  },
);
