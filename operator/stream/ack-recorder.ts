// Acks become the Pod annotation mcpwarden.dev/applied-revision, written by whichever
// replica the sidecar is connected to; the leader reads it from its Pod cache.
import type { ClusterClient } from "../cluster.ts";
import type { Pod } from "../kube-objects.ts";
import { APPLIED_REVISION_ANNOTATION } from "../well-known.ts";
import type { BoundPod } from "./stream-authenticator.ts";

export interface AckRecorder {
  record(pod: BoundPod, revision: string): Promise<void>;
}

export class PodAnnotationAcks implements AckRecorder {
  readonly #client: ClusterClient;
  readonly #cachedPod: (namespace: string, name: string) => Pod | undefined;
  /** Writes in flight, by pod uid, so a burst of identical acks is one patch. */
  readonly #inFlight = new Map<string, { revision: string; done: Promise<void> }>();

  constructor(client: ClusterClient, cachedPod: (namespace: string, name: string) => Pod | undefined) {
    this.#client = client;
    this.#cachedPod = cachedPod;
  }

  async record(pod: BoundPod, revision: string): Promise<void> {
    const cached = this.#cachedPod(pod.namespace, pod.name);
    if (cached?.metadata?.uid === pod.uid && cached.metadata.annotations?.[APPLIED_REVISION_ANNOTATION] === revision) return;
    const pending = this.#inFlight.get(pod.uid);
    if (pending !== undefined && pending.revision === revision) return pending.done;
    const done = this.#client.annotatePod(pod.namespace, pod.name, pod.uid, { [APPLIED_REVISION_ANNOTATION]: revision }).finally(() => {
      if (this.#inFlight.get(pod.uid)?.done === done) this.#inFlight.delete(pod.uid);
    });
    this.#inFlight.set(pod.uid, { revision, done });
    return done;
  }
}
