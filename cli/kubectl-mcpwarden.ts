#!/usr/bin/env node
// `kubectl mcpwarden` run from the sources or tsc's dist/ (the shipped command is the
// bundle: cli/bundle-main.ts).
import { runKubectlPlugin } from "./kubectl-plugin.ts";

void runKubectlPlugin(process.argv.slice(2));
