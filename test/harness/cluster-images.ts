// The images the local cluster runs, built here by tools/build-images.sh (buildah, local
// bases; nothing pulled) and saved as docker-archives for containerd: the project's
// images as `make images` names them, the node's own (pause, CoreDNS) and, for the
// end-to-end suite, a Redis and a monitoring stack (the Prometheus Operator, its config
// reloader, Prometheus).
import { spawn } from "node:child_process";
import { join } from "node:path";

/** The default IMAGE_PREFIX of `make images`, and of the chart's image repositories. */
export const defaultImagePrefix = "localhost/mcp-warden";
const projectImages = ["operator", "sidecar", "demo-server", "mockloop"] as const;

export interface ClusterImages {
  pause: string;
  coredns: string;
  /** Image references by short name (operator, sidecar, demo-server, mockloop, redis…). */
  refs: Record<string, string>;
  specs: string[];
  /** Builds what changed and returns every archive to import. */
  build(): Promise<string[]>;
}

/** `monitoringBinDir`: tools/build-prometheus-operator.sh's folder; with e2e, the monitoring images are built from it. */
export function clusterImages(options: { root: string; nodeBinDir: string; prefix?: string; tag: string; e2e: boolean; monitoringBinDir?: string }): ClusterImages {
  const prefix = options.prefix ?? defaultImagePrefix;
  const { root, nodeBinDir, tag } = options;
  const refs: Record<string, string> = {};
  const specs: string[] = [];
  for (const name of projectImages) {
    refs[name] = `${prefix}/${name}:${tag}`;
    specs.push(`${refs[name]}=${join(root, "images", `${name}.Dockerfile`)}`);
  }
  // The node's images carry their own versions, under the fixed local prefix.
  const pause = `${defaultImagePrefix}/pause:node`;
  const coredns = `${defaultImagePrefix}/coredns:node`;
  specs.push(`${pause}=${join(root, "tools", "images", "pause.Dockerfile")}=${nodeBinDir}`);
  specs.push(`${coredns}=${join(root, "tools", "images", "coredns.Dockerfile")}=${nodeBinDir}`);
  if (options.e2e) {
    refs.redis = `${defaultImagePrefix}/e2e-redis:${tag}`;
    specs.push(`${refs.redis}=${join(root, "test", "e2e", "images", "redis.Dockerfile")}`);
    if (options.monitoringBinDir !== undefined) {
      for (const name of ["prometheus-operator", "prometheus-config-reloader", "prometheus"]) {
        refs[name] = `${defaultImagePrefix}/e2e-${name}:${tag}`;
        specs.push(`${refs[name]}=${join(root, "tools", "images", `${name}.Dockerfile`)}=${options.monitoringBinDir}`);
      }
    }
  }
  return {
    pause,
    coredns,
    refs,
    specs,
    build: () => buildArchives(root, specs),
  };
}

function buildArchives(root: string, specs: string[]): Promise<string[]> {
  const cacheRoot = process.env.MCPWARDEN_CACHE ?? join(process.env.HOME ?? "/root", ".cache", "mcp-warden");
  return new Promise((resolve, reject) => {
    const child = spawn(join(root, "tools", "build-images.sh"), ["--archives", join(cacheRoot, "images", "archives"), ...specs], { stdio: ["ignore", "pipe", "inherit"] });
    let stdout = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.once("error", reject);
    child.once("exit", (code) => (code === 0 ? resolve(stdout.split("\n").filter(Boolean)) : reject(new Error(`tools/build-images.sh exited ${code}`))));
  });
}
