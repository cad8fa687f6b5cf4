/**
 * Scale-out functions: two cloud workers on Mosquitto and Redis share the function service's stores
 * (cloud/src/storage/redis/function-stores.ts). An owner registered, a module uploaded and white-listed through
 * worker A are served by worker B (no FERRY_FN_MODULE_NEEDED, no FERRY_FN_BAD_TOKEN), and namespace state a
 * call writes on one worker is read by a call on the other once the announcement arrived (waited on, never
 * timed).
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CloudService } from '@ferry/cloud';
import { wat } from '@ferry/test-kit/wat';
import { generatePrivateToken, mintPublicToken } from '../cloud/src/functions/index.ts';
import { KV_WAT } from '@ferry/test-kit/functions';
import { useScaleOutParts } from './scale-out-parts.ts';
import { ADMIN_TOKEN, bearer } from '@ferry/test-kit/http';

const parts = useScaleOutParts();

const KV = wat(KV_WAT); // `incr` adds one to the namespace key "counter" and returns it
const HASH = createHash('sha256').update(KV).digest('hex');

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

/** A fresh owner id per run: with REDIS_URL the Redis is shared and not flushed (the stores use the 'ferry:' prefix). */
const OWNER = `alice-${Math.random().toString(36).slice(2, 10)}`;

const counter = (w: CloudService): number | undefined => {
  const v = w.functions.namespaces.state(OWNER, 'home').get('counter');
  return v === undefined ? undefined : new DataView(v.buffer, v.byteOffset, v.byteLength).getInt32(0, true);
};

describe('cloud scale-out functions (Mosquitto + Redis, two workers)', () => {
  it('an owner, module and white-list made through worker A serve calls on worker B; state written on one is read on the other', async (ctx) => {
    const p = parts(ctx);
    if (p === undefined) return;
    // One data dir: the devices' SQLite file and the master key that seals owners' signing secrets are shared.
    const dataDir = mkdtempSync(join(tmpdir(), 'ferry-scale-fn-'));
    const workers = [0, 1].map(
      () =>
        new CloudService({
          adminToken: ADMIN_TOKEN,
          dataDir,
          mqttUrl: p.broker.url,
          shared: true,
          redisUrl: p.redisUrl,
          httpPort: 0,
          functionRunner: 'in-process',
          log: () => undefined,
        }),
    );
    const urls: string[] = [];
    try {
      for (const w of workers) urls.push((await w.start()).httpUrl);
      const [a, b] = workers as [CloudService, CloudService];
      const [urlA, urlB] = urls as [string, string];
      const priv = generatePrivateToken(OWNER);
      const pub = mintPublicToken(priv, { subject: 'th-01', ttlS: 3600, namespaces: ['home'], rate: { perSecond: 100, burst: 100 } }, Date.now());
      if (!pub.ok) throw pub.error;
      const call = { hash: HASH, export: 'incr', args: [], namespace: 'home', token: pub.value };

      // Everything through A.
      expect((await post(`${urlA}/api/owners`, { privateToken: priv })).status).toBe(201);
      const up = await fetch(`${urlA}/api/functions/modules?namespace=home`, {
        method: 'POST',
        headers: { 'content-type': 'application/wasm', authorization: `Bearer ${priv}` },
        body: new Uint8Array(KV),
      });
      expect(up.status).toBe(201);
      expect((await post(`${urlA}/api/functions/whitelist`, { privateToken: priv, namespace: 'home', hash: HASH })).status).toBe(200);

      // B heard the owner and the white-list (announced in that order); the module is read from Redis on B's miss.
      await until('the white-list reaches worker B', () => b.functions.whitelist.has(OWNER, 'home', HASH));
      expect(b.functions.registry.cached(HASH)).toBeUndefined(); // B never saw the upload
      expect(await post(`${urlB}/api/owners`, { privateToken: priv })).toMatchObject({ status: 409, body: { code: 'FERRY_FN_OWNER_EXISTS' } });
      expect(await post(`${urlB}/api/functions/call`, call)).toMatchObject({ status: 200, body: { value: 1 } }); // public token, white-listed
      expect(counter(b)).toBe(1);

      // The state B wrote reaches A; a call on A reads it and writes on, which reaches B in turn.
      await until('the state written on B reaches A', () => counter(a) === 1);
      expect(await post(`${urlA}/api/functions/call`, call)).toMatchObject({ status: 200, body: { value: 2 } });
      await until('the state written on A reaches B', () => counter(b) === 2);
      expect(await post(`${urlB}/api/functions/call`, { ...call, token: priv })).toMatchObject({ status: 200, body: { value: 3 } }); // private token on B

      // Taking the hash off the white-list on B refuses the public token on A.
      expect((await post(`${urlB}/api/functions/whitelist`, { privateToken: priv, namespace: 'home', hash: HASH, allowed: false })).status).toBe(200);
      await until('the white-list change reaches A', () => !a.functions.whitelist.has(OWNER, 'home', HASH));
      expect(await post(`${urlA}/api/functions/call`, call)).toMatchObject({ status: 403, body: { code: 'FERRY_FN_NOT_WHITELISTED' } });
    } finally {
      for (const w of workers) await w.stop();
      rmSync(dataDir, { recursive: true, force: true });
    }
  }, 60_000);
});
