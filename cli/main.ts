#!/usr/bin/env node
// `mcp-warden` run from the sources or tsc's dist/ (the shipped command is the bundle:
// cli/bundle-main.ts).
import { runMcpWarden } from "./program.ts";

void runMcpWarden(process.argv.slice(2));
