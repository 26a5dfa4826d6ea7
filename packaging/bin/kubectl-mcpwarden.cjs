#!/usr/bin/env node
"use strict";
require("./require-node.cjs")("kubectl-mcpwarden");
require("../lib/mcp-warden.cjs").run("kubectl-mcpwarden", process.argv.slice(2));
