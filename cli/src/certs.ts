/**
 * @module `ferry cloud certs`: a private certificate authority for a lab or a site without a public name, and
 * the certificates the cloud needs from it (docs/cloud.md "TLS"): one server certificate for the broker and the
 * HTTP API, one client certificate per gateway (its CN is the gateway id). ECDSA P-256 with SHA-256 (RFC 5480),
 * made with @peculiar/x509 over node's WebCrypto. Keys are written 0600 in a 0700 directory, certificates 0644.
 * A CA already in the directory is reused, so gateways can be added later and keep trusting the same root.
 */
import 'reflect-metadata'; // @peculiar/x509 resolves its ASN.1 providers through tsyringe, which needs it
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { join } from 'node:path';
import { webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';
import { Command } from 'commander';
import { intOption } from './key.ts';
import type { Io } from './io.ts';
import { UsageError } from './usage.ts';

x509.cryptoProvider.set(webcrypto as Crypto);

const ALG = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
const DAY = 86_400_000;
/** A gateway id as gateway.yaml allows it (it becomes the client certificate's CN). */
const GATEWAY_ID = /^[A-Za-z0-9._-]{1,32}$/;

export interface Pem {
  readonly cert: string;
  readonly key: string;
}

export interface LabCerts {
  readonly ca: Pem;
  readonly server: Pem;
  /** Client certificates by gateway id. */
  readonly gateways: ReadonlyMap<string, Pem>;
}

export interface LabCertOptions {
  /** Names and addresses the server certificate is valid for, besides localhost, 127.0.0.1 and ::1. */
  readonly hosts?: readonly string[];
  readonly gateways?: readonly string[];
  /** Validity of the server and client certificates (default 397, the most browsers accept); the CA gets ten times it. */
  readonly days?: number;
  /** An existing CA to issue from instead of a new one. */
  readonly ca?: Pem;
  readonly now?: Date;
}

const serial = (): string =>
  Buffer.from(webcrypto.getRandomValues(new Uint8Array(16)))
    .toString('hex')
    .replace(/^[89a-f]/, '7'); // positive (RFC 5280 §4.1.2.2)

async function keyPem(k: CryptoKey): Promise<string> {
  return x509.PemConverter.encode(await webcrypto.subtle.exportKey('pkcs8', k), 'PRIVATE KEY');
}

async function loadCa(p: Pem): Promise<{ cert: x509.X509Certificate; key: CryptoKey }> {
  const cert = new x509.X509Certificate(p.cert);
  const key = await webcrypto.subtle.importKey('pkcs8', x509.PemConverter.decodeFirst(p.key), ALG, false, ['sign']);
  return { cert, key };
}

/** Makes (or reuses) the CA and issues the server certificate and one client certificate per gateway, in memory. */
export async function labCertificates(o: LabCertOptions = {}): Promise<LabCerts> {
  const now = o.now ?? new Date();
  const days = o.days ?? 397;
  const notBefore = new Date(now.getTime() - 5 * 60_000); // a little slack for clocks behind ours
  const notAfter = new Date(now.getTime() + days * DAY);
  let ca: { cert: x509.X509Certificate; key: CryptoKey };
  let caPem: Pem;
  if (o.ca !== undefined) {
    ca = await loadCa(o.ca);
    caPem = o.ca;
  } else {
    const keys = await webcrypto.subtle.generateKey(ALG, true, ['sign', 'verify']);
    const cert = await x509.X509CertificateGenerator.createSelfSigned({
      serialNumber: serial(),
      name: 'CN=Ferry lab CA',
      notBefore,
      notAfter: new Date(now.getTime() + 10 * days * DAY),
      keys,
      signingAlgorithm: ALG,
      extensions: [
        new x509.BasicConstraintsExtension(true, 0, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
        await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
      ],
    });
    ca = { cert, key: keys.privateKey };
    caPem = { cert: cert.toString('pem'), key: await keyPem(keys.privateKey) };
  }
  const issue = async (cn: string, usage: 'server' | 'client', names: readonly string[]): Promise<Pem> => {
    const keys = await webcrypto.subtle.generateKey(ALG, true, ['sign', 'verify']);
    const extensions: x509.Extension[] = [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([usage === 'server' ? x509.ExtendedKeyUsage.serverAuth : x509.ExtendedKeyUsage.clientAuth]),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
      await x509.AuthorityKeyIdentifierExtension.create(ca.cert),
    ];
    if (names.length > 0)
      extensions.push(
        new x509.SubjectAlternativeNameExtension(names.map((n) => (isIP(n) !== 0 ? { type: 'ip' as const, value: n } : { type: 'dns' as const, value: n }))),
      );
    const cert = await x509.X509CertificateGenerator.create({
      serialNumber: serial(),
      subject: `CN=${cn}`,
      issuer: ca.cert.subject,
      notBefore,
      notAfter,
      publicKey: keys.publicKey,
      signingKey: ca.key,
      signingAlgorithm: ALG,
      extensions,
    });
    return { cert: cert.toString('pem'), key: await keyPem(keys.privateKey) };
  };
  const names = [...new Set([...(o.hosts ?? []), 'localhost', '127.0.0.1', '::1'])];
  const server = await issue(names[0] ?? 'localhost', 'server', names);
  const gateways = new Map<string, Pem>();
  for (const id of o.gateways ?? []) gateways.set(id, await issue(id, 'client', []));
  return { ca: caPem, server, gateways };
}

export interface WrittenFiles {
  readonly ca: { readonly cert: string; readonly key: string };
  readonly server: { readonly cert: string; readonly key: string };
  readonly gateways: Record<string, { readonly cert: string; readonly key: string }>;
}

/** Writes the certificates under `out` (0700); keys 0600, certificates 0644. Returns the paths written. */
export async function writeLabCertificates(out: string, o: Omit<LabCertOptions, 'ca'>): Promise<WrittenFiles> {
  for (const id of o.gateways ?? []) if (!GATEWAY_ID.test(id)) throw new UsageError(`--gateway ${id}: a gateway id is 1..32 characters of [A-Za-z0-9._-]`);
  mkdirSync(out, { recursive: true, mode: 0o700 });
  chmodSync(out, 0o700);
  const ca = { cert: join(out, 'ca.pem'), key: join(out, 'ca.key') };
  const reuse = existsSync(ca.cert) && existsSync(ca.key);
  const certs = await labCertificates({ ...o, ...(reuse && { ca: { cert: readFileSync(ca.cert, 'utf8'), key: readFileSync(ca.key, 'utf8') } }) });
  const put = (base: string, p: Pem): { cert: string; key: string } => {
    const f = { cert: join(out, `${base}.pem`), key: join(out, `${base}.key`) };
    writeFileSync(f.key, p.key, { mode: 0o600 });
    chmodSync(f.key, 0o600); // a file that existed keeps its old mode through writeFileSync
    writeFileSync(f.cert, p.cert, { mode: 0o644 });
    chmodSync(f.cert, 0o644);
    return f;
  };
  if (!reuse) put('ca', certs.ca);
  const gateways: Record<string, { cert: string; key: string }> = {};
  for (const [id, p] of certs.gateways) gateways[id] = put(`gateway-${id}`, p);
  return { ca, server: put('server', certs.server), gateways };
}

/** `ferry cloud certs`: added under `ferry cloud`. */
export function certsCommand(io: Io): Command {
  return new Command('certs')
    .description('make a private CA, a server certificate and client certificates for gateways (for --tls-cert/--tls-key/--tls-ca)')
    .requiredOption('--out <dir>', 'directory to write into (made 0700; a CA already there is reused)')
    .option('--host <name...>', 'DNS names and IP addresses the server certificate is for (localhost, 127.0.0.1 and ::1 are always in it)', [])
    .option('--gateway <id...>', 'issue a client certificate for this gateway (CN = its id)', [])
    .option('--days <n>', 'validity of the server and client certificates in days (the CA: ten times it)', '397')
    .action(async (o: { out: string; host: string[]; gateway: string[]; days: string }) => {
      const files = await writeLabCertificates(o.out, { hosts: o.host, gateways: o.gateway, days: intOption(o.days, '--days', 1, 3650) });
      io.out(`${JSON.stringify({ files })}\n`);
    });
}
