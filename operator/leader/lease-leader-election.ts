// Leader election on a coordination.k8s.io Lease, as client-go's leaderelection does
// it: a candidate takes the Lease only when its holder has not renewed it for a whole
// lease duration, timed by this process's own clock from when it last saw the Lease
// change (never by comparing clocks across machines); writes carry the resourceVersion,
// so two candidates cannot both win. A leader that cannot renew within renewDeadline
// steps down. On stop, a leader releases the Lease so another replica takes over at once.
import { ApiError, type ClusterClient } from "../cluster.ts";
import { microTime, type Lease } from "../kube-objects.ts";
import { errorText, type OperatorLogger } from "../operator-logger.ts";

export interface LeaderElectionOptions {
  client: ClusterClient;
  namespace: string;
  name: string;
  identity: string;
  leaseDurationMs?: number;
  renewDeadlineMs?: number;
  retryPeriodMs?: number;
  onStartedLeading: () => void;
  onStoppedLeading: () => void;
  logger: OperatorLogger;
}

export interface LeaderState {
  readonly isLeader: boolean;
}

export class LeaseLeaderElection implements LeaderState {
  readonly #options: LeaderElectionOptions;
  readonly #leaseDurationMs: number;
  readonly #renewDeadlineMs: number;
  readonly #retryPeriodMs: number;
  #leader = false;
  #stopped = false;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;
  /** What we last saw of the Lease, and when (our clock). */
  #observed: { fingerprint: string; atMs: number } | undefined;
  #lastRenewMs = 0;

  constructor(options: LeaderElectionOptions) {
    this.#options = options;
    this.#leaseDurationMs = options.leaseDurationMs ?? 15_000;
    this.#renewDeadlineMs = options.renewDeadlineMs ?? 10_000;
    this.#retryPeriodMs = options.retryPeriodMs ?? 2_000;
  }

  get isLeader(): boolean {
    return this.#leader;
  }

  start(): void {
    this.#schedule(0);
  }

  /** Stops campaigning; a leader releases the Lease. */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    await this.#running;
    if (this.#leader) {
      this.#setLeader(false);
      await this.#release();
    }
  }

  #schedule(delayMs: number): void {
    if (this.#stopped) return;
    this.#timer = setTimeout(() => {
      this.#running = this.#tick().finally(() => {
        this.#running = undefined;
        this.#schedule(this.#retryPeriodMs);
      });
    }, delayMs);
    this.#timer.unref();
  }

  async #tick(): Promise<void> {
    try {
      const renewed = await this.#tryAcquireOrRenew();
      if (this.#stopped) return;
      if (renewed) {
        this.#lastRenewMs = Date.now();
        if (!this.#leader) this.#setLeader(true);
        return;
      }
    } catch (error) {
      this.#options.logger.warn({ err: errorText(error) }, "leader election: could not read or write the Lease");
    }
    if (this.#leader && Date.now() - this.#lastRenewMs > this.#renewDeadlineMs) {
      this.#options.logger.warn("leader election: could not renew the Lease in time; stepping down");
      this.#setLeader(false);
    }
  }

  /** True when we hold the Lease after this call. */
  async #tryAcquireOrRenew(): Promise<boolean> {
    const { client, namespace, name, identity } = this.#options;
    const now = new Date();
    const durationSeconds = Math.max(1, Math.ceil(this.#leaseDurationMs / 1000));
    const lease = await client.readLease(namespace, name);
    if (lease === undefined) {
      try {
        await client.createLease({
          metadata: { namespace, name },
          spec: { holderIdentity: identity, leaseDurationSeconds: durationSeconds, acquireTime: microTime(now), renewTime: microTime(now), leaseTransitions: 0 },
        });
        return true;
      } catch (error) {
        if (error instanceof ApiError && error.status === 409) return false; // another replica created it first
        throw error;
      }
    }
    const spec = lease.spec ?? {};
    const fingerprint = JSON.stringify([spec.holderIdentity ?? "", spec.renewTime ?? "", lease.metadata?.resourceVersion ?? ""]);
    if (this.#observed?.fingerprint !== fingerprint) this.#observed = { fingerprint, atMs: Date.now() };
    const holder = spec.holderIdentity ?? "";
    const heldByUs = holder === identity;
    const durationMs = (spec.leaseDurationSeconds ?? durationSeconds) * 1000;
    if (!heldByUs && holder !== "" && this.#observed.atMs + durationMs > Date.now()) return false;

    const next: Lease = {
      metadata: { ...lease.metadata, namespace, name },
      spec: {
        ...spec,
        holderIdentity: identity,
        leaseDurationSeconds: durationSeconds,
        renewTime: microTime(now),
        acquireTime: heldByUs ? spec.acquireTime : microTime(now),
        leaseTransitions: heldByUs ? spec.leaseTransitions : (spec.leaseTransitions ?? 0) + 1,
      },
    };
    try {
      const written = await client.replaceLease(next);
      const writtenSpec = written.spec ?? {};
      this.#observed = { fingerprint: JSON.stringify([writtenSpec.holderIdentity ?? "", writtenSpec.renewTime ?? "", written.metadata?.resourceVersion ?? ""]), atMs: Date.now() };
      return true;
    } catch (error) {
      if (error instanceof ApiError && error.status === 409) return false; // someone else wrote it meanwhile
      throw error;
    }
  }

  async #release(): Promise<void> {
    const { client, namespace, name, identity } = this.#options;
    try {
      const lease = await client.readLease(namespace, name);
      if (lease?.spec?.holderIdentity !== identity) return;
      const now = microTime(new Date());
      await client.replaceLease({ metadata: lease.metadata, spec: { ...lease.spec, holderIdentity: null, leaseDurationSeconds: 1, renewTime: now, acquireTime: now } });
      this.#options.logger.info({ lease: `${namespace}/${name}` }, "released the Lease");
    } catch (error) {
      this.#options.logger.warn({ err: errorText(error) }, "leader election: could not release the Lease");
    }
  }

  #setLeader(leader: boolean): void {
    if (this.#leader === leader) return;
    this.#leader = leader;
    this.#options.logger.info({ identity: this.#options.identity, lease: `${this.#options.namespace}/${this.#options.name}` }, leader ? "became the leader" : "no longer the leader");
    try {
      if (leader) this.#options.onStartedLeading();
      else this.#options.onStoppedLeading();
    } catch (error) {
      this.#options.logger.error({ err: errorText(error) }, "leader election callback threw");
    }
  }
}
