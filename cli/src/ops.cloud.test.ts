/**
 * The operator commands against a real CloudService on loopback ports: what an operator does with the CLI
 * alone (devices, functions, rules, tokens), with the cloud's own answers.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CloudService } from '@ferry/cloud';
import { startTestCloud } from '../../cloud/src/service/test-cloud.case.ts';
import { generatePrivateToken } from '@ferry/cloud/functions';
import { buildFixture } from '@ferry/test-kit/function-fixtures';
import { memoryIo } from './io.ts';
import { main } from './main.ts';

const dir = mkdtempSync(join(tmpdir(), 'ferry-cli-ops-cloud-'));
let svc: CloudService;
let api = '';
/** The cloud admin's credential. */
let admin = '';
const alice = generatePrivateToken('alice');
const MODULE = join(dir, 'min-temperature.wasm');
beforeAll(async () => {
  ({ svc, httpUrl: api } = await startTestCloud({ dataDir: join(dir, 'data'), functionRunner: 'in-process' }));
  admin = svc.adminToken;
  expect(svc.functions.register(alice).ok).toBe(true);
  writeFileSync(MODULE, await buildFixture('min-temperature'));
}, 60_000);
afterAll(async () => {
  await svc.stop();
});

const run = async (args: string[], token = admin) => {
  const io = memoryIo([], { FERRY_API: api, FERRY_TOKEN: token });
  const code = await main(['node', 'ferry', ...args], io);
  return { code, out: io.stdout.join(''), err: io.stderr.join(''), json: (): unknown => JSON.parse(io.stdout.join('')) };
};

describe('devices', () => {
  it('device add prints the key once; device list shows the device without it', async () => {
    const a = await run(['device', 'add', 'ops-d1', '--namespace', 'home']);
    expect([a.code, a.err]).toEqual([0, '']);
    expect(a.json()).toMatchObject({ id: 'ops-d1', namespace: 'home', key: expect.stringMatching(/^[0-9a-f]{64}$/) });
    const l = await run(['device', 'list']);
    expect(l.code).toBe(0);
    const rows = l.json() as { id: string; key?: string }[];
    expect(rows.find((d) => d.id === 'ops-d1')).toMatchObject({ id: 'ops-d1', namespace: 'home' });
    expect(rows.every((d) => d.key === undefined)).toBe(true);
    const again = await run(['device', 'add', 'ops-d1']);
    expect([again.code, again.out, (JSON.parse(again.err) as { code: string }).code]).toEqual([1, '', expect.stringMatching(/^FERRY_/)]);
  });

  it('device add answers MQTT credentials and the owner and gateway asked; device remove removes it', async () => {
    expect((await run(['gateway', 'add', 'ops-gw1', '--owner', 'alice'])).code).toBe(0);
    const a = await run(['device', 'add', 'ops-d2', '--owner', 'alice', '--gateway', 'ops-gw1']);
    expect([a.code, a.err]).toEqual([0, '']);
    expect(a.json()).toMatchObject({
      id: 'ops-d2',
      owner: 'alice',
      gateway: 'ops-gw1',
      key: expect.stringMatching(/^[0-9a-f]{64}$/),
      mqtt: { username: expect.any(String), password: expect.any(String) },
    });
    const r = await run(['device', 'remove', 'ops-d2']);
    expect([r.code, r.json()]).toEqual([0, { id: 'ops-d2', removed: true }]);
    expect(((await run(['device', 'list'])).json() as { id: string }[]).some((d) => d.id === 'ops-d2')).toBe(false);
  });
});

describe('owners and gateways', () => {
  it('owner add answers the new private token once', async () => {
    const r = await run(['owner', 'add', 'carol']);
    expect([r.code, r.err]).toEqual([0, '']);
    const { owner, privateToken } = r.json() as { owner: string; privateToken: string };
    expect(owner).toBe('carol');
    expect(svc.functions.owners.authenticate(privateToken)).toMatchObject({ ok: true, value: 'carol' });
  });

  it('gateway add answers its key and MQTT credentials', async () => {
    const r = await run(['gateway', 'add', 'ops-gw2', '--board', 'ops-b1', 'ops-b2']);
    expect([r.code, r.err]).toEqual([0, '']);
    expect(r.json()).toMatchObject({ id: 'ops-gw2', key: expect.any(String), mqtt: { username: expect.any(String), password: expect.any(String) } });
  });
});

describe('functions, with the owner private token in FERRY_TOKEN', () => {
  let hash = '';
  it('fn upload prints the hash', async () => {
    const u = await run(['fn', 'upload', MODULE, '--namespace', 'home'], alice);
    expect([u.code, u.err]).toEqual([0, '']);
    hash = (u.json() as { hash: string }).hash;
    expect(hash).toMatch(/^[0-9a-f]{64}$/);
  });

  it('fn call runs a white-listed hash with the arguments given', async () => {
    expect(svc.functions.setWhitelisted(alice, 'flat', hash, true).ok).toBe(true);
    const c = await run(['fn', 'call', hash, 'min_temperature', '-1', '--namespace', 'flat'], alice);
    expect([c.code, c.err]).toEqual([0, '']);
    expect(c.json()).toMatchObject({ value: -(2 ** 31) }); // NONE: no reading in the namespace
  });

  it('fn allow white-lists it (a call with a public token runs it); fn allow --deny takes it off (that call is refused)', async () => {
    const a = await run(['fn', 'allow', hash, '--namespace', 'home'], alice);
    expect([a.code, a.err]).toEqual([0, '']);
    expect(a.json()).toEqual({ namespace: 'home', hash, allowed: true });
    // The white-list governs public tokens (the owner's own token may run anything in its namespaces).
    const minted = await run(['token', 'mint', '--namespace', 'home', '--subject', 'kiosk'], alice);
    expect(minted.code).toBe(0);
    const pub = (minted.json() as { token: string }).token;
    const c = await run(['fn', 'call', hash, 'min_temperature', '-1', '--namespace', 'home'], pub);
    expect([c.code, c.err]).toEqual([0, '']);
    expect(c.json()).toMatchObject({ value: -(2 ** 31) });
    expect((await run(['fn', 'allow', hash, '--namespace', 'home', '--deny'], alice)).code).toBe(0);
    const refused = await run(['fn', 'call', hash, 'min_temperature', '-1', '--namespace', 'home'], pub);
    expect([refused.code, (JSON.parse(refused.err) as { code: string }).code]).toEqual([1, 'FERRY_FN_NOT_WHITELISTED']);
  });
});

describe('rules', () => {
  it('install, start, list, status, a refused move, stop, uninstall', async () => {
    const file = join(dir, 'rule.json');
    writeFileSync(
      file,
      JSON.stringify({
        headers: { runtime: 'cloud', targetResource: 'room-1', jobType: 'single-filter' },
        jobConfig: { connectors: { input: 'ferry/up/+/msg', output: 'alerts/t' }, jobProps: { condition: 'gt', threshold: 30, fieldName: 't' } },
      }),
    );
    const i = await run(['rule', 'install', file]);
    expect([i.code, i.err]).toEqual([0, '']);
    const { jobId } = i.json() as { jobId: string };
    expect((await run(['rule', 'start', jobId])).json()).toMatchObject({ jobId, jobStatus: 'RUNNING' });
    expect((await run(['rule', 'list'])).json()).toEqual(expect.arrayContaining([expect.objectContaining({ jobId, jobStatus: 'RUNNING' })]));
    expect((await run(['rule', 'status', jobId])).json()).toMatchObject({ jobInfo: { jobId, jobStatus: 'RUNNING' }, targetResource: 'room-1' });
    const move = await run(['rule', 'move', jobId, '--to', 'gateway:nobody']);
    expect([move.code, (JSON.parse(move.err) as { code: string }).code]).toEqual([1, 'FERRY_API_MOVE_TARGET']);
    expect((await run(['rule', 'stop', jobId])).json()).toMatchObject({ jobId, jobStatus: 'STOPPED' });
    expect((await run(['rule', 'uninstall', jobId])).code).toBe(0);
    const gone = await run(['rule', 'status', jobId]);
    expect([gone.code, gone.out]).toEqual([1, '']);
  });
});

describe('tokens', () => {
  it('a public token minted by the CLI works until the CLI revokes it', async () => {
    const m = await run(['token', 'mint', '--namespace', 'home', '--subject', 'dev-1', '--ttl', '3600'], alice);
    expect([m.code, m.err]).toEqual([0, '']);
    const { token } = m.json() as { token: string };
    expect(svc.functions.authenticate(token).ok).toBe(true);
    const r = await run(['token', 'revoke', token], alice);
    expect([r.code, r.json()]).toEqual([0, { revoked: true }]);
    const after = svc.functions.authenticate(token);
    expect(after.ok ? 'ok' : after.error.code).toBe('FERRY_FN_TOKEN_REVOKED');
  });

  it('token mint --role answers the token once; token list shows it without the secret; token revoke --id ends it', async () => {
    const m = await run(['token', 'mint', '--role', 'operator', '--name', 'ci', '--ttl-days', '1']);
    expect([m.code, m.err]).toEqual([0, '']);
    const minted = m.json() as { id: string; token: string; role: string; expiresMs: number };
    expect(minted).toMatchObject({ id: expect.any(String), token: expect.any(String), role: 'operator', expiresMs: expect.any(Number) });
    const listed = (await run(['token', 'list'])).json() as { id: string; token?: string }[];
    expect(listed.find((t) => t.id === minted.id)).toMatchObject({ id: minted.id, role: 'operator' });
    expect(JSON.stringify(listed)).not.toContain(minted.token);
    expect((await run(['rule', 'list'], minted.token)).code).toBe(0); // an operator may read the rules
    expect((await run(['token', 'revoke', '--id', minted.id])).code).toBe(0);
    expect((await run(['rule', 'list'], minted.token)).code).toBe(1);
  });
});
