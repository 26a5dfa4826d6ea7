import { defineConfig } from "vitest/config";
import { BaseSequencer, type TestSpecification } from "vitest/node";

// The end-to-end suite shares one cluster (the local one `test/e2e/global-setup.ts`
// starts, or MCPWARDEN_E2E_CONTEXT's). Files run one at a time in the order of their
// names: the README's install comes first, `helm uninstall` and the cluster's own
// lifecycle last.
class ByName extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    return [...files].sort((a, b) => a.moduleId.localeCompare(b.moduleId));
  }
}

export default defineConfig({
  test: {
    include: ["test/e2e/**/*.test.ts"],
    environment: "node",
    globalSetup: ["test/e2e/global-setup.ts"],
    fileParallelism: false,
    sequence: { sequencer: ByName, shuffle: false },
    testTimeout: 300_000,
    hookTimeout: 900_000,
    teardownTimeout: 180_000,
  },
});
