export { connectToCluster } from "./kube-connection.ts";
