/** `ferry cloud certs`: the chain verifies with node's own X.509 code, and a real TLS handshake trusts it and only it. */
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isIP } from 'node:net';
import { checkServerIdentity, connect, createServer, type PeerCertificate, type Server } from 'node:tls';
import { describe, expect, it } from 'vitest';
import { labCertificates, type Pem } from './certs.ts';
import { memoryIo } from './io.ts';
import { main } from './main.ts';

/** Serves TLS with `server` on a loopback port; asks for client certificates signed by `clientCa` when given. */
async function tlsServer(server: Pem, clientCa?: string): Promise<{ port: number; close: () => Promise<void> }> {
  const s: Server = createServer({ ...server, ...(clientCa !== undefined && { ca: clientCa, requestCert: true, rejectUnauthorized: true }) }, (c) =>
    c.end('hi'),
  );
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const a = s.address();
  return { port: typeof a === 'object' && a !== null ? a.port : 0, close: () => new Promise((r) => s.close(() => r())) };
}

/** Connects with `ca` as the only trusted root; resolves 'ok' or the error's code. */
function handshake(port: number, o: { ca: string; host?: string; client?: Pem }): Promise<string> {
  return new Promise((resolve) => {
    const host = o.host ?? 'localhost';
    // An IP address is checked against the certificate's IP SANs and sent as no SNI name (RFC 6066 §3).
    const name = isIP(host) === 0 ? { servername: host } : { checkServerIdentity: (_: string, cert: PeerCertificate) => checkServerIdentity(host, cert) };
    const c = connect({ port, host: '127.0.0.1', ...name, ca: o.ca, rejectUnauthorized: true, ...o.client }, () => {
      c.once('data', () => {
        c.end();
        resolve('ok');
      });
    });
    c.once('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
    c.once('close', () => resolve('closed'));
  });
}

describe('ferry cloud certs', () => {
  it('makes a CA whose signature verifies the server and gateway certificates, with the SANs asked for', async () => {
    const certs = await labCertificates({ hosts: ['cloud.lab', '10.0.0.5'], gateways: ['gw-1'], days: 30 });
    const ca = new X509Certificate(certs.ca.cert);
    const server = new X509Certificate(certs.server.cert);
    const gw = new X509Certificate(certs.gateways.get('gw-1')!.cert);
    expect(ca.ca).toBe(true);
    expect(server.ca).toBe(false);
    expect(server.verify(ca.publicKey)).toBe(true);
    expect(gw.verify(ca.publicKey)).toBe(true);
    expect(server.checkIssued(ca)).toBe(true);
    for (const host of ['cloud.lab', 'localhost']) expect(server.checkHost(host)).toBe(host);
    expect(server.checkHost('other.lab')).toBeUndefined();
    for (const ip of ['10.0.0.5', '127.0.0.1', '::1']) expect(server.checkIP(ip)).toBe(ip);
    expect(server.checkIP('10.0.0.6')).toBeUndefined();
    expect(gw.subject).toBe('CN=gw-1');
    expect(gw.keyUsage).toEqual(['1.3.6.1.5.5.7.3.2']); // clientAuth
    expect(server.keyUsage).toEqual(['1.3.6.1.5.5.7.3.1']); // serverAuth
    const days = (Date.parse(server.validTo) - Date.parse(server.validFrom)) / 86_400_000;
    expect(days).toBeGreaterThan(30);
    expect(days).toBeLessThan(30.1);
    const other = await labCertificates();
    expect(server.verify(new X509Certificate(other.ca.cert).publicKey)).toBe(false);
  });

  it('a TLS handshake succeeds against its CA and fails against another; client certificates from it are accepted', async () => {
    const certs = await labCertificates({ gateways: ['gw-1'] });
    const other = await labCertificates({ gateways: ['gw-x'] });
    const plain = await tlsServer(certs.server);
    try {
      expect(await handshake(plain.port, { ca: certs.ca.cert })).toBe('ok');
      expect(await handshake(plain.port, { ca: certs.ca.cert, host: '127.0.0.1' })).toBe('ok');
      expect(await handshake(plain.port, { ca: other.ca.cert })).toBe('UNABLE_TO_VERIFY_LEAF_SIGNATURE');
      expect(await handshake(plain.port, { ca: certs.ca.cert, host: 'elsewhere.lab' })).toBe('ERR_TLS_CERT_ALTNAME_INVALID');
    } finally {
      await plain.close();
    }
    const mutual = await tlsServer(certs.server, certs.ca.cert);
    try {
      expect(await handshake(mutual.port, { ca: certs.ca.cert, client: certs.gateways.get('gw-1')! })).toBe('ok');
      expect(await handshake(mutual.port, { ca: certs.ca.cert, client: other.gateways.get('gw-x')! })).not.toBe('ok');
    } finally {
      await mutual.close();
    }
  });

  it('writes keys 0600 and certificates 0644 in a 0700 directory, prints the files, and reuses the CA', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'ferry-certs-')), 'tls');
    const io = memoryIo();
    expect(await main(['node', 'ferry', 'cloud', 'certs', '--out', out, '--host', 'cloud.lab', '--gateway', 'gw-1', 'gw-2', '--days', '10'], io)).toBe(0);
    const { files } = JSON.parse(io.stdout.join('')) as {
      files: { ca: { cert: string; key: string }; server: { cert: string; key: string }; gateways: Record<string, { cert: string; key: string }> };
    };
    expect(Object.keys(files.gateways)).toEqual(['gw-1', 'gw-2']);
    expect(statSync(out).mode & 0o777).toBe(0o700);
    for (const f of [files.ca, files.server, files.gateways['gw-1']!, files.gateways['gw-2']!]) {
      expect(statSync(f.key).mode & 0o777).toBe(0o600);
      expect(statSync(f.cert).mode & 0o777).toBe(0o644);
    }
    const ca = readFileSync(files.ca.cert, 'utf8');
    const again = memoryIo();
    expect(await main(['node', 'ferry', 'cloud', 'certs', '--out', out, '--gateway', 'gw-3'], again)).toBe(0);
    expect(readFileSync(files.ca.cert, 'utf8')).toBe(ca);
    const gw3 = new X509Certificate(readFileSync(join(out, 'gateway-gw-3.pem')));
    expect(gw3.verify(new X509Certificate(ca).publicKey)).toBe(true);
    expect(await main(['node', 'ferry', 'cloud', 'certs', '--out', out, '--gateway', 'bad/id'], memoryIo())).toBe(2);
  });
});
