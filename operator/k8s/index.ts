export { connectToCluster, type KubeConnection, type ConnectOptions } from "./kube-connection.ts";
