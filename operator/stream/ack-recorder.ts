// Acks become the Pod annotation mcpwarden.dev/applied-revision, written by whichever
// replica the sidecar is connected to; the leader reads it from its Pod cache.
import type { ClusterClient } from "../cluster.ts";
import type { Pod } from "../kube-objects.ts";
import { APPLIED_REVISION_ANNOTATION } from "../well-known.ts";
import type { BoundPod } from "./stream-authenticator.ts";

export interface AckRecorder {
  record(pod: BoundPod, revision: string): Promise<void>;
}

interface PodWrites {
  /** The revision the sidecar acked last: what the annotation must end up saying. */
  latest: string;
  written: string | undefined;
  /** Writes for one pod run one after another: two patches in flight could land in either order. */
  tail: Promise<void>;
}

export class PodAnnotationAcks implements AckRecorder {
  readonly #client: ClusterClient;
  readonly #cachedPod: (namespace: string, name: string) => Pod | undefined;
  readonly #pods = new Map<string, PodWrites>();

  constructor(client: ClusterClient, cachedPod: (namespace: string, name: string) => Pod | undefined) {
    this.#client = client;
    this.#cachedPod = cachedPod;
  }

  record(pod: BoundPod, revision: string): Promise<void> {
    let writes = this.#pods.get(pod.uid);
    if (writes === undefined) {
      const cached = this.#cachedPod(pod.namespace, pod.name);
      if (cached?.metadata?.uid === pod.uid && cached.metadata.annotations?.[APPLIED_REVISION_ANNOTATION] === revision) return Promise.resolve();
      writes = { latest: revision, written: undefined, tail: Promise.resolve() };
      this.#pods.set(pod.uid, writes);
    }
    const own = writes;
    own.latest = revision;
    // A burst of acks becomes one patch per revision change, in order.
    const step = own.tail.then(async () => {
      if (own.written === own.latest) return;
      const target = own.latest;
      await this.#client.annotatePod(pod.namespace, pod.name, pod.uid, { [APPLIED_REVISION_ANNOTATION]: target });
      own.written = target;
    });
    const tail = step.catch(() => undefined);
    own.tail = tail;
    void tail.then(() => {
      if (this.#pods.get(pod.uid) === own && own.tail === tail) this.#pods.delete(pod.uid);
    });
    return step;
  }
}
