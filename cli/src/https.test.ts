/** The CLI against a cloud serving https (docs/cloud.md "TLS"): `--ca` or FERRY_CA pins the CA; the TLS flags of `cloud start` are checked. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CloudService } from '@ferry/cloud';
import { startTestCloud } from '../../cloud/src/service/test-cloud.case.ts';
import { labCertificates } from './certs.ts';
import { memoryIo } from './io.ts';
import { main } from './main.ts';
import { ADMIN_TOKEN } from '@ferry/test-kit/http';

const run = async (args: string[], env: Record<string, string> = {}) => {
  const io = memoryIo([], { FERRY_TOKEN: ADMIN_TOKEN, ...env });
  const code = await main(['node', 'ferry', ...args], io);
  return { code, out: io.stdout.join(''), err: io.stderr.join('') };
};

let svc: CloudService;
let api: string;
let ca: string;
let otherCa: string;
beforeAll(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ferry-cli-tls-'));
  const certs = await labCertificates();
  const other = await labCertificates();
  ca = join(dir, 'ca.pem');
  otherCa = join(dir, 'other.pem');
  writeFileSync(ca, certs.ca.cert);
  writeFileSync(otherCa, other.ca.cert);
  ({ svc, httpUrl: api } = await startTestCloud({ dataDir: join(dir, 'data'), tls: { cert: certs.server.cert, key: certs.server.key, ca: certs.ca.cert } }));
});
afterAll(async () => {
  await svc.stop();
});

describe('ferry device over https', () => {
  it('talks to the API with --ca or FERRY_CA, and not with another CA or none', async () => {
    const add = await run(['device', 'add', 'th-cli', '--api', api, '--ca', ca]);
    expect(add.code).toBe(0);
    expect(JSON.parse(add.out)).toMatchObject({ id: 'th-cli' });
    const list = await run(['device', 'list', '--api', api], { FERRY_CA: ca });
    expect(list.code).toBe(0);
    expect(list.out).toContain('th-cli');
    const wrong = await run(['device', 'add', 'th-other', '--api', api, '--ca', otherCa]);
    expect(wrong.code).toBe(2);
    expect(wrong.err).toMatch(/cannot reach the cloud API .*(self-signed|unable to verify)/);
    expect((await run(['device', 'add', 'th-none', '--api', api])).code).toBe(2); // the system roots do not know the lab CA
    expect((await run(['device', 'list', '--api', api, '--ca', join(tmpdir(), 'no-such-ca.pem')])).err).toMatch(/--ca .*no-such-ca\.pem/);
  });
});

describe('ferry cloud start TLS flags', () => {
  it('are refused when incomplete, and a LAN address needs TLS or --insecure', async () => {
    expect((await run(['cloud', 'start', '--tls-cert', ca])).err).toMatch(/--tls-cert and --tls-key go together/);
    expect((await run(['cloud', 'start', '--tls-client-certs'])).err).toMatch(/need --tls-cert and --tls-key/);
    expect((await run(['cloud', 'start', '--tls-cert', ca, '--tls-key', ca, '--tls-client-certs'])).err).toMatch(/--tls-client-certs needs --tls-ca/);
    expect((await run(['cloud', 'start', '--host', '0.0.0.0'])).err).toMatch(/TLS is off/);
  });
});
