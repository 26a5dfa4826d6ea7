#!/usr/bin/env node
"use strict";
require("./require-node.cjs")("mcp-warden");
require("../lib/mcp-warden.cjs").run("mcp-warden", process.argv.slice(2));
