// How the operator finds its cluster: --kubeconfig, else $KUBECONFIG, else the
// in-cluster ServiceAccount, else ~/.kube/config.
import { KubeConfig } from "@kubernetes/client-node";
import { existsSync, readFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import type { ClusterClient, StoreFactory } from "../cluster.ts";
import type { OperatorLogger } from "../operator-logger.ts";
import { KubeClusterClient } from "./kube-cluster-client.ts";
import { KubeHttp } from "./kube-http.ts";
import { KubeStoreFactory } from "./kube-watched-store.ts";

const SERVICE_ACCOUNT_DIR = "/var/run/secrets/kubernetes.io/serviceaccount";

export interface KubeConnection {
  /** The API server's URL. */
  readonly server: string;
  /** "in-cluster", or the kubeconfig file it came from. */
  readonly source: string;
  /** The namespace of the in-cluster ServiceAccount or the kubeconfig's context, if any. */
  readonly namespace: string | undefined;
  readonly client: ClusterClient;
  readonly stores: StoreFactory;
}

export interface ConnectOptions {
  kubeconfig?: string;
  context?: string;
  /** Sent as the field manager of server-side apply. */
  fieldManager: string;
  logger: OperatorLogger;
}

export function connectToCluster(options: ConnectOptions): KubeConnection {
  const config = new KubeConfig();
  let source: string;
  let namespace: string | undefined;
  const inCluster = process.env.KUBERNETES_SERVICE_HOST !== undefined && existsSync(join(SERVICE_ACCOUNT_DIR, "token"));
  const homeConfig = join(homedir(), ".kube", "config");
  if (options.kubeconfig !== undefined) {
    config.loadFromFile(options.kubeconfig);
    source = options.kubeconfig;
  } else if (process.env.KUBECONFIG) {
    config.loadFromDefault();
    source = process.env.KUBECONFIG;
  } else if (inCluster) {
    config.loadFromCluster();
    source = "in-cluster";
    namespace = readFileSync(join(SERVICE_ACCOUNT_DIR, "namespace"), "utf8").trim() || undefined;
  } else if (existsSync(homeConfig)) {
    config.loadFromFile(homeConfig);
    source = homeConfig;
  } else {
    throw new Error("no cluster to talk to: set KUBECONFIG (or --kubeconfig), or run the operator in a cluster");
  }
  if (options.context !== undefined) config.setCurrentContext(options.context);
  const cluster = config.getCurrentCluster();
  if (cluster === null) throw new Error(`the kubeconfig ${source} has no current cluster`);
  if (source !== "in-cluster") namespace = config.getContextObject(config.getCurrentContext())?.namespace;
  const http = new KubeHttp(config);
  return {
    server: cluster.server,
    source,
    namespace,
    client: new KubeClusterClient(http, options.fieldManager),
    stores: new KubeStoreFactory(config, http, options.logger),
  };
}
