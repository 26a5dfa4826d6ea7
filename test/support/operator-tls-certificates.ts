// Certificates for tests that play the operator's HTTPS end (the sidecar's stream source
// against a stand-in operator): a CA, a server certificate for 127.0.0.1 it signed, and
// the CA of someone else. Made by the operator's own issuer, so the sidecar trusts what a
// real operator serves; test code, so sidecar/ itself never imports operator/.
import { createCertificateAuthority, issueCertificate, type PemPair } from "../../operator/tls/certificates.ts";

export interface OperatorTlsCertificates {
  /** The CA a sidecar is told to trust. */
  readonly caPem: string;
  /** The stand-in operator's certificate for 127.0.0.1, signed by that CA. */
  readonly server: PemPair;
  /** A CA that signed nothing the sidecar should accept. */
  readonly otherCaPem: string;
}

export async function operatorTlsCertificates(): Promise<OperatorTlsCertificates> {
  const ca = await createCertificateAuthority("test operator CA");
  const server = await issueCertificate(ca, { commonName: "operator", hosts: ["127.0.0.1"], usage: "server" });
  const otherCaPem = (await createCertificateAuthority("someone else")).certPem;
  return { caPem: ca.certPem, server, otherCaPem };
}
