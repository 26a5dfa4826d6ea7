#!/usr/bin/env node
"use strict";
require("./require-node.cjs")("mcp-warden");
// The build split into chunks (ADR 11): only what this command reaches is loaded.
import("../lib/bundle-main.mjs").then(
  function (entry) {
    return entry.run("mcp-warden", process.argv.slice(2));
  },
  function (error) {
    process.stderr.write("mcp-warden: " + (error && error.message ? error.message : String(error)) + "\n");
    process.exit(1);
  },
);
