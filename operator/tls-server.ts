// HTTPS servers for the webhook and the policy stream. With --tls-cert-file and
// --tls-key-file the files are re-read when they change (cert-manager renews them in
// place); without them the operator makes an ephemeral self-signed set, for
// development, and says so.
import { readFileSync, statSync } from "node:fs";
import { createServer, type Server } from "node:https";
import type { RequestHandler } from "./http-app.ts";
import type { AddressInfo } from "node:net";
import { hostname } from "node:os";
import { errorText, type OperatorLogger } from "./operator-logger.ts";
import { createCertificateAuthority, issueCertificate } from "./tls/certificates.ts";

export interface ServingCertificate {
  certPem: string;
  keyPem: string;
  /** The CA clients should trust. */
  caPem: string;
  /** Files to watch, when it came from files. */
  files?: { certFile: string; keyFile: string };
  ephemeral: boolean;
  hosts: string[];
}

export async function servingCertificate(options: { certFile?: string; keyFile?: string; caFile?: string; hosts: string[] }): Promise<ServingCertificate> {
  if ((options.certFile === undefined) !== (options.keyFile === undefined)) throw new Error("give both --tls-cert-file and --tls-key-file, or neither");
  if (options.certFile !== undefined && options.keyFile !== undefined) {
    const certPem = readFileSync(options.certFile, "utf8");
    return {
      certPem,
      keyPem: readFileSync(options.keyFile, "utf8"),
      // A self-signed certificate is its own CA; a CA-signed one needs --control-plane-ca-file.
      caPem: options.caFile === undefined ? certPem : readFileSync(options.caFile, "utf8"),
      files: { certFile: options.certFile, keyFile: options.keyFile },
      ephemeral: false,
      hosts: [],
    };
  }
  const hosts = [...new Set(["localhost", "127.0.0.1", "::1", hostname(), ...options.hosts])];
  const ca = await createCertificateAuthority("mcp-warden operator (ephemeral development CA)", 30);
  const leaf = await issueCertificate(ca, { commonName: "mcp-warden-operator", hosts, usage: "server", validDays: 30 });
  return { certPem: leaf.certPem, keyPem: leaf.keyPem, caPem: ca.certPem, ephemeral: true, hosts };
}

export interface TlsServer {
  readonly server: Server;
  readonly port: number;
  close(): Promise<void>;
}

const RELOAD_CHECK_MS = 60_000;

export async function startTlsServer(certificate: ServingCertificate, host: string, port: number, handler: RequestHandler, logger: OperatorLogger): Promise<TlsServer> {
  const server = createServer({ cert: certificate.certPem, key: certificate.keyPem, minVersion: "TLSv1.2" }, handler);
  server.keepAliveTimeout = 75_000; // longer than the API server's idle timeout for webhook connections
  server.headersTimeout = 30_000;
  server.requestTimeout = 0; // streams stay open
  let reload: NodeJS.Timeout | undefined;
  if (certificate.files !== undefined) {
    const { certFile, keyFile } = certificate.files;
    let stamp = fileStamp(certFile, keyFile);
    reload = setInterval(() => {
      const next = fileStamp(certFile, keyFile);
      if (next === stamp) return;
      try {
        server.setSecureContext({ cert: readFileSync(certFile, "utf8"), key: readFileSync(keyFile, "utf8") });
        stamp = next;
        logger.info({ certFile }, "reloaded the serving certificate");
      } catch (error) {
        logger.warn({ err: errorText(error), certFile }, "could not reload the serving certificate; keeping the old one");
      }
    }, RELOAD_CHECK_MS);
    reload.unref();
  }
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host === "" ? undefined : host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  server.on("error", (error) => logger.error({ err: errorText(error) }, "HTTPS server error"));
  return {
    server,
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        clearInterval(reload);
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function fileStamp(...files: string[]): string {
  return files
    .map((file) => {
      try {
        const stat = statSync(file);
        return `${stat.mtimeMs}:${stat.size}:${stat.ino}`;
      } catch {
        return "missing";
      }
    })
    .join("|");
}
