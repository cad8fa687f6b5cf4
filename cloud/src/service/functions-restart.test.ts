/**
 * Functions survive a restart of the embedded cloud (scheduled functions too, docs/cloud.md "Schedules"):
 * owners, modules, white-lists, namespace state and revocations are in cloud.db
 * (storage/sqlite/function-stores.ts), so a new process on the same data dir serves the same calls, and a
 * schedule made before the restart keeps running, with no re-registration and no re-upload. Periods are
 * counted on a manual clock; the real timers only drive the passes.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { generatePrivateToken, mintPublicToken } from '../functions/index.ts';
import { wat } from '@ferry/test-kit/wat';
import { KV_WAT, ManualClock } from '@ferry/test-kit/functions';
import type { CloudOptions, CloudService } from './service.ts';
import { startTestCloud } from './test-cloud.case.ts';
import { bearer } from '@ferry/test-kit/http';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const KV = wat(KV_WAT); // `incr` adds one to the namespace key "counter" and returns it
const HASH = createHash('sha256').update(KV).digest('hex');
const PERIOD_S = 60;

const post = async (url: string, body: unknown, headers: Record<string, string> = {}): Promise<{ status: number; body: Record<string, unknown> }> => {
  const r = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...bearer(), ...headers }, body: JSON.stringify(body) });
  const text = await r.text();
  return { status: r.status, body: text === '' ? {} : (JSON.parse(text) as Record<string, unknown>) };
};

async function until(what: string, cond: () => boolean): Promise<void> {
  for (const end = Date.now() + 10_000; !cond(); ) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

async function startCloud(opts: Partial<CloudOptions> & { dataDir: string }): Promise<{ svc: CloudService; url: string }> {
  const { svc, httpUrl } = await startTestCloud({ functionRunner: 'in-process', scheduleTickMs: 10, ...opts });
  return { svc, url: httpUrl };
}

const text = (svc: CloudService, owner: string, key: string): string | undefined => {
  const v = svc.functions.namespaces.state(owner, 'home').get(key);
  return v === undefined ? undefined : new TextDecoder().decode(v);
};

describe('functions across a restart of the embedded cloud (SQLite)', () => {
  it('owner, module, white-list, namespace state, revocations and a schedule come back; nothing is registered or uploaded again', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'ferry-fn-restart-'));
    cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
    const clock = new ManualClock(Date.now()); // token expiry is checked on the service's system clock; periods on this one
    const priv = generatePrivateToken('alice');
    const mint = (subject: string): string => {
      const t = mintPublicToken(
        priv,
        { subject, ttlS: 3600, namespaces: ['home'], rate: { perSecond: 100, burst: 100 }, schedule: { minPeriodS: PERIOD_S } },
        Date.now(),
      );
      if (!t.ok) throw t.error;
      return t.value;
    };
    const pub = mint('th-01');
    const lost = mint('lost-phone');
    const call = { hash: HASH, export: 'incr', args: [], namespace: 'home', token: pub };

    const first = await startCloud({ dataDir, scheduleClock: clock });
    cleanups.push(() => first.svc.stop());
    expect((await post(`${first.url}/api/owners`, { privateToken: priv })).status).toBe(201);
    const up = await fetch(`${first.url}/api/functions/modules?namespace=home`, {
      method: 'POST',
      headers: { 'content-type': 'application/wasm', authorization: `Bearer ${priv}` },
      body: new Uint8Array(KV),
    });
    expect(up.status).toBe(201);
    expect((await post(`${first.url}/api/functions/whitelist`, { privateToken: priv, namespace: 'home', hash: HASH })).status).toBe(200);
    expect(await post(`${first.url}/api/functions/call`, call)).toMatchObject({ status: 200, body: { value: 1 } });
    expect(first.svc.functions.revoke(priv, lost)).toEqual({ ok: true, value: undefined });
    // A schedule under the public token: period 0 runs at once (counter 2, written to incr.last).
    const made = await post(`${first.url}/api/functions/schedules`, {
      token: pub,
      namespace: 'home',
      hash: HASH,
      export: 'incr',
      args: [],
      periodS: PERIOD_S,
      writeTo: 'incr.last',
    });
    expect(made.status).toBe(201);
    await until('period 0', () => text(first.svc, 'alice', 'incr.last') === '2');
    await first.svc.stop();
    cleanups.pop();

    // A new process on the same data dir.
    const second = await startCloud({ dataDir, scheduleClock: clock });
    cleanups.push(() => second.svc.stop());
    // The state is there before anything runs, and period 0 is not run again.
    expect([text(second.svc, 'alice', 'incr.last'), second.svc.functions.namespaces.state('alice', 'home').get('counter')]).toEqual([
      '2',
      new Uint8Array([2, 0, 0, 0]),
    ]);
    expect(await second.svc.schedules.runDue()).toEqual([]);
    expect(await post(`${second.url}/api/owners`, { privateToken: priv })).toMatchObject({ status: 409, body: { code: 'FERRY_FN_OWNER_EXISTS' } });
    expect(second.svc.functions.registry.cached(HASH)).toBeUndefined(); // this process never saw an upload
    // The public token still verifies (the owner's signing secret came back), the hash is still white-listed,
    // the module needs no upload, and the call continues from the stored counter.
    expect(await post(`${second.url}/api/functions/call`, call)).toMatchObject({ status: 200, body: { value: 3 } });
    expect(await post(`${second.url}/api/functions/call`, { ...call, token: lost })).toMatchObject({ status: 401, body: { code: 'FERRY_FN_TOKEN_REVOKED' } });
    const devices = await post(`${second.url}/api/devices`, { id: 'th-01', namespace: 'home', privateToken: priv });
    expect(devices.status).toBe(201); // the private token authenticates too

    // The schedule's next period runs in the new process, under the same public token, into the same state.
    clock.advance(PERIOD_S * 1000);
    await until('period 1 after the restart', () => text(second.svc, 'alice', 'incr.last') === '4');
    const leases = second.svc.db.prepare('SELECT period FROM schedule_lease WHERE schedule_id = ? ORDER BY period').pluck().all(made.body['id']);
    expect(leases).toEqual([0, 1]);

    // Taking the hash off the white-list also outlives a restart: the public token is then refused.
    expect((await post(`${second.url}/api/functions/whitelist`, { privateToken: priv, namespace: 'home', hash: HASH, allowed: false })).status).toBe(200);
    await second.svc.stop();
    cleanups.pop();
    const third = await startCloud({ dataDir, scheduleClock: clock });
    cleanups.push(() => third.svc.stop());
    expect(await post(`${third.url}/api/functions/call`, call)).toMatchObject({ status: 403, body: { code: 'FERRY_FN_NOT_WHITELISTED' } });
    expect(await post(`${third.url}/api/functions/call`, { ...call, token: priv })).toMatchObject({ status: 200, body: { value: 5 } });
  }, 30_000);
});
