import { defineConfig } from "vitest/config";

// Integration tests share one real control plane (etcd + kube-apiserver) started by
// the global setup. Files run one after another: two API servers on 2 cores time out.
export default defineConfig({
  test: {
    include: ["test/integration/**/*.test.ts"],
    environment: "node",
    globalSetup: ["test/harness/global-setup.ts"],
    fileParallelism: false,
    testTimeout: 120_000,
    hookTimeout: 180_000,
    teardownTimeout: 60_000,
  },
});
