// What a sidecar reports becomes an annotation on its Pod, written by whichever replica
// the sidecar is connected to; the leader reads it from its Pod cache. Acks are
// mcpwarden.dev/applied-revision; the tool definitions a sidecar saw,
// mcpwarden.dev/tool-definitions.
import type { ClusterClient } from "../cluster.ts";
import type { Pod } from "../kube-objects.ts";
import { APPLIED_REVISION_ANNOTATION } from "../well-known.ts";
import type { BoundPod } from "./stream-authenticator.ts";

export interface AckRecorder {
  /** Records the latest value the pod reported (a revision, a definitions report). */
  record(pod: BoundPod, value: string): Promise<void>;
}

interface PodWrites {
  /** What the sidecar reported last: what the annotation must end up saying. */
  latest: string;
  written: string | undefined;
  /** Writes for one pod run one after another: two patches in flight could land in either order. */
  tail: Promise<void>;
}

/** The latest value each pod reported, written to one annotation of the pod. */
export class PodAnnotationAcks implements AckRecorder {
  readonly #client: ClusterClient;
  readonly #cachedPod: (namespace: string, name: string) => Pod | undefined;
  readonly #annotation: string;
  readonly #pods = new Map<string, PodWrites>();

  constructor(client: ClusterClient, cachedPod: (namespace: string, name: string) => Pod | undefined, annotation = APPLIED_REVISION_ANNOTATION) {
    this.#client = client;
    this.#cachedPod = cachedPod;
    this.#annotation = annotation;
  }

  record(pod: BoundPod, value: string): Promise<void> {
    const annotation = this.#annotation;
    let writes = this.#pods.get(pod.uid);
    if (writes === undefined) {
      const cached = this.#cachedPod(pod.namespace, pod.name);
      if (cached?.metadata?.uid === pod.uid && cached.metadata.annotations?.[annotation] === value) return Promise.resolve();
      writes = { latest: value, written: undefined, tail: Promise.resolve() };
      this.#pods.set(pod.uid, writes);
    }
    const own = writes;
    own.latest = value;
    // A burst of acks becomes one patch per revision change, in order.
    const step = own.tail.then(async () => {
      if (own.written === own.latest) return;
      const target = own.latest;
      await this.#client.annotatePod(pod.namespace, pod.name, pod.uid, { [annotation]: target });
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
