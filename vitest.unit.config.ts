import { defineConfig } from "vitest/config";

// Unit tests sit beside the code they test and need nothing outside the process
// (Redis-backed store tests start their own redis-server and say so).
export default defineConfig({
  test: {
    include: ["{cli,policy,protocol,tracing,sidecar,operator}/**/*.test.ts"],
    environment: "node",
    testTimeout: 30_000,
  },
});
