// Where the end-to-end suite can run, decided before `make test` builds anything. Prints
// `local`, `context` or `skip`; otherwise one line on stderr saying why not and what to do
// instead, and exit 1 — the suite is never left out silently.
//   MCPWARDEN_E2E=skip             skip it (the test summary says so)
//   MCPWARDEN_E2E_CONTEXT=<name>   run it against that kubeconfig context (it installs and
//                                  uninstalls the chart and deletes pods there)
//   neither                        the local cluster: root on Linux, and no other cluster running
import { ClusterLock, ClusterLockedError } from "../harness/host-state.ts";

const how = "run the suite against a cluster of yours with `make e2e MCPWARDEN_E2E_CONTEXT=<kubeconfig context>`, or skip it with MCPWARDEN_E2E=skip";

if (process.env.MCPWARDEN_E2E === "skip") {
  console.log("skip");
} else if (process.env.MCPWARDEN_E2E_CONTEXT) {
  console.log("context");
} else if (process.platform !== "linux" || process.getuid?.() !== 0) {
  console.error(`e2e: this machine cannot host the local Kubernetes node the end-to-end suite runs on (it needs root on Linux; this is ${process.platform}, uid ${process.getuid?.() ?? "n/a"}): ${how}`);
  process.exit(1);
} else {
  try {
    await (await ClusterLock.acquire()).release();
  } catch (error) {
    const reason = error instanceof ClusterLockedError ? error.message : error instanceof Error ? error.message : String(error);
    console.error(`e2e: ${reason}; the suite starts a cluster of its own`);
    process.exit(1);
  }
  console.log("local");
}
