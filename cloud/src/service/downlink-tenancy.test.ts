/**
 * Namespaces belong to owners; their names do not. Two owners each with a namespace "home": a reading of owner
 * A's board must reach A's boards' signed state snapshots and never B's (it did: snapshots were kept by
 * namespace name alone, so B's thermostat would have decided on A's rooms).
 */
import mqtt from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { encode, verifyDownlink } from '@ferry/message';
import { downlinkKey, hmacKey } from '@ferry/message/node';
import { workerLogin } from '@ferry/test-kit/mqtt-login';
import { generatePrivateToken } from '../functions/tokens/private-token.ts';
import { startTestCloud } from './test-cloud.case.ts';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

describe('namespace state snapshots and owners', () => {
  it("a reading in owner A's namespace 'home' reaches A's boards, never B's board in B's 'home'", async () => {
    const { svc, mqttUrl, stop } = await startTestCloud({ name: 'dn-ten' });
    cleanups.push(stop);
    for (const o of ['alice', 'bob']) expect(svc.functions.register(generatePrivateToken(o)).ok).toBe(true);
    const keys = new Map<string, Buffer>();
    for (const [id, owner] of [
      ['a-reader', 'alice'],
      ['a-thermo', 'alice'],
      ['b-thermo', 'bob'],
    ] as const)
      keys.set(id, Buffer.from(svc.devices.add(id, 'home', Date.now(), owner).key, 'hex'));
    const w = await mqtt.connectAsync(mqttUrl, workerLogin(svc.mqttCredential));
    cleanups.push(() => w.endAsync(true));
    const snapshots = new Map<string, Record<string, string>>();
    w.on('message', (topic, p) => {
      const id = topic.split('/')[2]!;
      const v = verifyDownlink(p.toString(), downlinkKey(keys.get(id)!, id), { aud: id, nowMs: Date.now() });
      if (v.ok) snapshots.set(id, (v.value.body as { state: Record<string, string> }).state);
    });
    await w.subscribeAsync('ferry/dn/+/state', { qos: 1 });

    const t = encode(
      { header: { kid: 'a-reader', ep: 1, sq: 0 }, claims: { iss: 'a-reader', iat: Math.floor(Date.now() / 1000), ev: 'tel', d: { t: 18.5 } } },
      hmacKey(keys.get('a-reader')!),
    );
    if (!t.ok) throw t.error;
    await svc.ingest.ingest(t.value, { topic: 'ferry/up/a-reader/msg' });
    svc.stateDownlink.flush();
    for (const end = Date.now() + 5000; !snapshots.has('a-thermo'); ) {
      if (Date.now() > end) throw new Error("no snapshot for A's thermostat");
      await new Promise((r) => setTimeout(r, 20));
    }
    await new Promise((r) => setTimeout(r, 200));
    expect(Object.keys(snapshots.get('a-thermo')!)).toEqual(['temp.a-reader']);
    expect(snapshots.get('b-thermo') === undefined || !('temp.a-reader' in snapshots.get('b-thermo')!)).toBe(true);
  });
});
