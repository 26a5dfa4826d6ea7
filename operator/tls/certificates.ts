// X.509 certificates for the webhook and policy-stream servers (an ephemeral
// self-signed set when the operator runs without TLS files) and for the test control
// plane. ECDSA P-256 throughout: generation takes milliseconds, and every TLS peer we
// talk to (kube-apiserver, Node, Go clients) accepts it.
import "reflect-metadata"; // @peculiar/x509 resolves its services through tsyringe, which needs it
import * as x509 from "@peculiar/x509";
import { createPublicKey, generateKeyPairSync, randomBytes, type webcrypto } from "node:crypto";
import { isIP } from "node:net";

type CryptoKey = webcrypto.CryptoKey;
type CryptoKeyPair = webcrypto.CryptoKeyPair;

// The global WebCrypto is node:crypto's `webcrypto` (a lazy getter: the split build cannot re-export it).
const webCrypto = globalThis.crypto;
x509.cryptoProvider.set(webCrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

const algorithm = { name: "ECDSA", namedCurve: "P-256", hash: "SHA-256" } as const;
const dayMs = 24 * 60 * 60 * 1000;

export interface PemPair {
  certPem: string;
  keyPem: string;
}

export interface CertificateAuthority extends PemPair {
  readonly keys: CryptoKeyPair;
  readonly cert: x509.X509Certificate;
}

export interface CertificateRequest {
  commonName: string;
  /** Subject O= entries; Kubernetes reads them as the client's groups. */
  organizations?: string[];
  /** DNS names and IP addresses for the subjectAltName. */
  hosts?: string[];
  usage: "server" | "client" | "server-and-client";
  validDays?: number;
}

function serialNumber(): string {
  const bytes = randomBytes(16);
  bytes[0] = bytes[0]! & 0x7f; // positive
  return bytes.toString("hex");
}

function escapeDnValue(value: string): string {
  return value.replace(/([,+"\\<>;=#])/g, "\\$1");
}

function distinguishedName(commonName: string, organizations: string[] = []): string {
  return [...organizations.map((o) => `O=${escapeDnValue(o)}`), `CN=${escapeDnValue(commonName)}`].join(", ");
}

async function exportKeyPem(key: CryptoKey): Promise<string> {
  const der = Buffer.from(await webCrypto.subtle.exportKey("pkcs8", key));
  return x509.PemConverter.encode(der, "PRIVATE KEY");
}

async function generateKeys(): Promise<CryptoKeyPair> {
  return (await webCrypto.subtle.generateKey(algorithm, true, ["sign", "verify"])) as CryptoKeyPair;
}

/** A self-signed CA that can sign server and client certificates. */
export async function createCertificateAuthority(commonName: string, validDays = 3650): Promise<CertificateAuthority> {
  const keys = await generateKeys();
  const now = Date.now();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serialNumber(),
    name: distinguishedName(commonName),
    notBefore: new Date(now - 60_000),
    notAfter: new Date(now + validDays * dayMs),
    keys,
    signingAlgorithm: algorithm,
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { keys, cert, certPem: cert.toString("pem"), keyPem: await exportKeyPem(keys.privateKey) };
}

/** A leaf certificate signed by `ca`. */
export async function issueCertificate(ca: CertificateAuthority, request: CertificateRequest): Promise<PemPair> {
  const keys = await generateKeys();
  const now = Date.now();
  const usages: string[] = [];
  if (request.usage !== "client") usages.push(x509.ExtendedKeyUsage.serverAuth);
  if (request.usage !== "server") usages.push(x509.ExtendedKeyUsage.clientAuth);
  const extensions: x509.Extension[] = [
    new x509.BasicConstraintsExtension(false, undefined, true),
    new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
    new x509.ExtendedKeyUsageExtension(usages),
    await x509.AuthorityKeyIdentifierExtension.create(ca.keys.publicKey),
  ];
  const hosts = request.hosts ?? [];
  if (hosts.length > 0) {
    extensions.push(
      new x509.SubjectAlternativeNameExtension(
        hosts.map((h) => (isIP(h) ? { type: "ip" as const, value: h } : { type: "dns" as const, value: h })),
      ),
    );
  }
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serialNumber(),
    subject: distinguishedName(request.commonName, request.organizations),
    issuer: ca.cert.subject,
    notBefore: new Date(now - 60_000),
    notAfter: new Date(now + (request.validDays ?? 365) * dayMs),
    signingKey: ca.keys.privateKey,
    publicKey: keys.publicKey,
    signingAlgorithm: algorithm,
    extensions,
  });
  return { certPem: cert.toString("pem"), keyPem: await exportKeyPem(keys.privateKey) };
}

/** A key pair for signing service-account tokens (kube-apiserver accepts EC keys). */
export function createSigningKeyPair(): { privateKeyPem: string; publicKeyPem: string } {
  const { privateKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
  return {
    privateKeyPem: privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
    publicKeyPem: createPublicKey(privateKey).export({ type: "spki", format: "pem" }).toString(),
  };
}

/** A CA from PEM files, to sign more certificates with it. */
export async function loadCertificateAuthority(certPem: string, keyPem: string): Promise<CertificateAuthority> {
  const cert = new x509.X509Certificate(certPem);
  const privateKey = await webCrypto.subtle.importKey("pkcs8", x509.PemConverter.decodeFirst(keyPem), algorithm, true, ["sign"]);
  const publicKey = await cert.publicKey.export(algorithm, ["verify"]);
  return { cert, certPem, keyPem, keys: { privateKey, publicKey } as CryptoKeyPair };
}
