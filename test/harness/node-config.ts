// The local node's configuration files and its system objects (CoreDNS), as pure
// functions of the folders and addresses the cluster chose. No I/O here.

/** Addresses of the local cluster. Only the veth's host end and two routes exist on the host. */
export const clusterNetwork = {
  /** The host end of the veth pair; the other end is `eth0` in the cluster's namespace. */
  hostInterface: "mcpw0",
  hostAddress: "10.201.0.1",
  /** The node's InternalIP: the API server, the kubelet and kube-proxy's NodePorts listen here. */
  nodeAddress: "10.201.0.2",
  linkPrefixLength: 30,
  podCidr: "10.244.0.0/24",
  serviceCidr: "10.96.0.0/16",
  apiServiceIp: "10.96.0.1",
  dnsServiceIp: "10.96.0.10",
  clusterDomain: "cluster.local",
  nodeName: "mcp-warden-node",
  /** The kubelet's cgroupRoot: every pod cgroup lives under /sys/fs/cgroup/<hierarchy>/mcp-warden. */
  cgroupName: "mcp-warden",
} as const;

export interface NodePaths {
  /** This run's state: containerd's root, the kubelet's root, CNI state, configuration. */
  stateDir: string;
  containerdSocket: string;
  cniConfigDir: string;
  clientCaFile: string;
  kubeletKubeconfig: string;
  kubeProxyKubeconfig: string;
  resolvConf: string;
  sandboxImage: string;
}

/** containerd 1.6 (Debian's): CRI with runc and the Debian CNI plugins; nothing pulled, nothing outside stateDir. */
export function containerdConfig(paths: NodePaths): string {
  return `version = 2
root = "${paths.stateDir}/containerd/root"
state = "${paths.stateDir}/containerd/state"
# The opt plugin would write /opt/containerd; the other snapshotters are not used.
disabled_plugins = ["io.containerd.internal.v1.opt", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.aufs", "io.containerd.tracing.processor.v1.otlp"]

[grpc]
  address = "${paths.containerdSocket}"

[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "${paths.sandboxImage}"
  # Root here lacks CAP_SYS_RESOURCE: runc may not lower oom_score_adj below ours.
  restrict_oom_score_adj = true
  enable_selinux = false
  max_container_log_line_size = 16384
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        BinaryName = "/usr/sbin/runc"
        SystemdCgroup = false
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "${paths.cniConfigDir}"
`;
}

/** A bridge with host-local addresses; no masquerade (nothing leaves the namespace). */
export function cniConfig(paths: NodePaths): string {
  return JSON.stringify(
    {
      cniVersion: "1.0.0",
      name: "mcp-warden",
      plugins: [
        {
          type: "bridge",
          bridge: "cni0",
          isGateway: true,
          ipMasq: false,
          hairpinMode: true,
          ipam: { type: "host-local", ranges: [[{ subnet: clusterNetwork.podCidr }]], routes: [{ dst: "0.0.0.0/0" }], dataDir: `${paths.stateDir}/cni/ipam` },
        },
        { type: "portmap", capabilities: { portMappings: true } },
      ],
    },
    null,
    2,
  );
}

export function kubeletConfig(paths: NodePaths): string {
  return JSON.stringify(
    {
      apiVersion: "kubelet.config.k8s.io/v1beta1",
      kind: "KubeletConfiguration",
      authentication: { anonymous: { enabled: false }, webhook: { enabled: true }, x509: { clientCAFile: paths.clientCaFile } },
      authorization: { mode: "Webhook" },
      // This machine kind has cgroup v1 (hybrid), which kubelet 1.34 refuses unless told.
      failCgroupV1: false,
      cgroupDriver: "cgroupfs",
      cgroupRoot: `/${clusterNetwork.cgroupName}`,
      failSwapOn: false,
      containerRuntimeEndpoint: `unix://${paths.containerdSocket}`,
      address: clusterNetwork.nodeAddress,
      readOnlyPort: 0,
      healthzBindAddress: "127.0.0.1",
      clusterDNS: [clusterNetwork.dnsServiceIp],
      clusterDomain: clusterNetwork.clusterDomain,
      resolvConf: paths.resolvConf,
      podLogsDir: `${paths.stateDir}/pod-logs`,
      // Images cannot be pulled again: never collect them, and only evict on a nearly full disk.
      imageGCHighThresholdPercent: 100,
      imageGCLowThresholdPercent: 99,
      evictionHard: { "memory.available": "100Mi", "nodefs.available": "1%", "imagefs.available": "1%", "nodefs.inodesFree": "1%" },
      serializeImagePulls: false,
      maxPods: 110,
      rotateCertificates: false,
      syncFrequency: "10s",
      fileCheckFrequency: "10s",
    },
    null,
    2,
  );
}

export function kubeProxyConfig(paths: NodePaths): string {
  return JSON.stringify(
    {
      apiVersion: "kubeproxy.config.k8s.io/v1alpha1",
      kind: "KubeProxyConfiguration",
      clientConnection: { kubeconfig: paths.kubeProxyKubeconfig },
      mode: "iptables",
      clusterCIDR: clusterNetwork.podCidr,
      hostnameOverride: clusterNetwork.nodeName,
      bindAddress: clusterNetwork.nodeAddress,
      healthzBindAddress: "127.0.0.1:10256",
      metricsBindAddress: "127.0.0.1:10249",
      // Zeros leave the conntrack sysctls alone (some are host-wide).
      conntrack: { maxPerCore: 0, min: 0, tcpEstablishedTimeout: "0s", tcpCloseWaitTimeout: "0s" },
    },
    null,
    2,
  );
}

/** CoreDNS answers for the cluster domain only: no `forward`, so no query leaves the machine. */
export function corednsManifests(image: string): object[] {
  const labels = { "k8s-app": "kube-dns" };
  const corefile = `.:1053 {
    errors
    health :8080
    ready :8181
    kubernetes ${clusterNetwork.clusterDomain} in-addr.arpa ip6.arpa {
      pods insecure
      fallthrough in-addr.arpa ip6.arpa
    }
    cache 30
    loop
    reload
}
`;
  return [
    { apiVersion: "v1", kind: "ServiceAccount", metadata: { name: "coredns", namespace: "kube-system" } },
    {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "ClusterRole",
      metadata: { name: "system:coredns" },
      rules: [
        { apiGroups: [""], resources: ["endpoints", "services", "pods", "namespaces"], verbs: ["list", "watch"] },
        { apiGroups: ["discovery.k8s.io"], resources: ["endpointslices"], verbs: ["list", "watch"] },
      ],
    },
    {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "ClusterRoleBinding",
      metadata: { name: "system:coredns" },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "system:coredns" },
      subjects: [{ kind: "ServiceAccount", name: "coredns", namespace: "kube-system" }],
    },
    { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "coredns", namespace: "kube-system" }, data: { Corefile: corefile } },
    {
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: { name: "coredns", namespace: "kube-system", labels },
      spec: {
        replicas: 1,
        selector: { matchLabels: labels },
        template: {
          metadata: { labels },
          spec: {
            serviceAccountName: "coredns",
            priorityClassName: "system-cluster-critical",
            dnsPolicy: "Default",
            containers: [
              {
                name: "coredns",
                image,
                imagePullPolicy: "Never",
                args: ["-conf", "/etc/coredns/Corefile"],
                ports: [
                  { name: "dns", containerPort: 1053, protocol: "UDP" },
                  { name: "dns-tcp", containerPort: 1053, protocol: "TCP" },
                ],
                readinessProbe: { httpGet: { path: "/ready", port: 8181 }, periodSeconds: 2 },
                livenessProbe: { httpGet: { path: "/health", port: 8080 }, periodSeconds: 10 },
                resources: { requests: { cpu: "50m", memory: "32Mi" }, limits: { memory: "128Mi" } },
                securityContext: { runAsNonRoot: true, runAsUser: 65532, allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ["ALL"] } },
                volumeMounts: [{ name: "config", mountPath: "/etc/coredns", readOnly: true }],
              },
            ],
            volumes: [{ name: "config", configMap: { name: "coredns" } }],
          },
        },
      },
    },
    {
      apiVersion: "v1",
      kind: "Service",
      metadata: { name: "kube-dns", namespace: "kube-system", labels },
      spec: {
        selector: labels,
        clusterIP: clusterNetwork.dnsServiceIp,
        ports: [
          { name: "dns", port: 53, targetPort: 1053, protocol: "UDP" },
          { name: "dns-tcp", port: 53, targetPort: 1053, protocol: "TCP" },
        ],
      },
    },
  ];
}
