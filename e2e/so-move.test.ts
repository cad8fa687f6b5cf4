/**
 * Moves of a composite-stream component between the cloud and a real gateway daemon (docs/composite-streams.md,
 * "Moves"), over the cloud's control channel and the gateway's outbox, on the cloud's embedded broker. The
 * component is fed continuously and moved cloud -> gateway -> cloud -> gateway -> cloud at random points
 * (the feed does not stop for a move: updates that come during one wait for it). What the cloud computed and
 * what the gateway sent up through its outbox, together, equal an unmoved run's outputs: nothing lost, nothing
 * twice. The cloud's side is a stand-in host (ComposeHost over MemoryStore) until the cloud's own host lands.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { startTestCloud } from '../cloud/src/service/test-cloud.case.ts';
import { MemoryStore, type StreamValue } from '@ferry/compose';
import { ComposeHost, GatewayDaemon, parseConfig } from '@ferry/gateway';
import { verify } from '@ferry/message';
import { hmacKey } from '@ferry/message/node';
import { ScriptedSource } from '@ferry/test-kit/sources';
import { bearer } from '@ferry/test-kit/http';
import { workerLogin } from '@ferry/test-kit/mqtt-login';
import { SoMover } from '../cloud/src/compose/move.ts';
import { COMPOSITES, OBJECTS, OWNER, reference, update } from './so-topology.ts';

const N = 160;
const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});
const until = async (cond: () => boolean, what: string, ms = 20_000): Promise<void> => {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
};

describe('composite streams move between cloud and gateway (real daemon, control channel, outbox)', () => {
  it('fed continuously and moved at random points, the outputs equal an unmoved run', async () => {
    const { svc: cloud, mqttUrl, httpUrl, stop } = await startTestCloud({ name: 'so-move' });
    cleanups.push(stop);
    const res = await fetch(`${httpUrl}/api/gateways`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...bearer() },
      body: JSON.stringify({ id: 'gw-so' }),
    });
    const { key } = (await res.json()) as { key: string };
    const cfg = parseConfig({
      gateway: { id: 'gw-so', key, data_dir: mkdtempSync(join(tmpdir(), 'ferry-so-move-gw-')) },
      uplink: { url: mqttUrl },
      api: { port: 0 },
    });
    const gateway = new GatewayDaemon(cfg, { sources: [new ScriptedSource()], log: () => undefined });
    await gateway.start();
    cleanups.push(() => gateway.stop());
    await until(() => gateway.uplink.connected, 'the gateway uplink');

    // The cloud's side: a stand-in host with the component installed, and the mover.
    const host = new ComposeHost({ store: new MemoryStore(1_000_000), clock: { now: Date.now } });
    for (const [so, doc] of OBJECTS) expect((await host.create({ global: true }, so, OWNER, doc)).ok).toBe(true);
    const mover = new SoMover({
      host,
      gatewayRequest: (...a) => cloud.gatewayRequest(...a),
      gateway: (id) => {
        const d = cloud.devices.info(id);
        return d?.kind === 'gateway' ? { owner: d.owner } : undefined;
      },
    });
    const stored: { where: string; so: string; stream: string; value: StreamValue }[] = [];
    host.onOutput((o) => stored.push({ where: 'cloud', ...o }));
    mover.onGatewayValue((v) => stored.push({ where: 'gateway', ...v }));

    // What the gateway sends up, as the cloud's ingest would hand it over: verified, each message once.
    const sub = await mqtt.connectAsync(mqttUrl, workerLogin(cloud.mqttCredential));
    cleanups.push(() => sub.endAsync(true));
    const seen = new Set<string>();
    const refused: string[] = [];
    sub.on('message', (_topic, payload) => {
      const m = verify(payload, hmacKey(Buffer.from(key, 'hex')));
      if (!m.ok) return;
      const id = `${m.value.header.ep}/${m.value.header.sq}`;
      if (seen.has(id)) return; // MQTT at-least-once: the transport's redelivery, not the engine's
      seen.add(id);
      void mover.fromGateway('gw-so', m.value.claims['d']).then((why) => why !== undefined && refused.push(why));
    });
    await sub.subscribeAsync('ferry/up/gw-so/so', { qos: 1 });

    const points = [0, 0, 0, 0].map(() => 5 + Math.floor(Math.random() * (N - 10))).sort((a, b) => a - b);
    const moves: Promise<unknown>[] = [];
    const at: string[] = [];
    for (let i = 0; i < N; i++) {
      points.forEach((p, m) => {
        if (p !== i) return;
        const to = m % 2 === 0 ? 'gateway:gw-so' : 'cloud';
        at.push(`${i}->${to}`);
        moves.push(mover.move({ global: true }, 'U', to).then((r) => expect(r).toMatchObject({ ok: true, value: { to, so: ['T', 'U'] } })));
      });
      const r = await mover.push({ global: true }, 'T', 'S', update(i));
      expect(r.ok && r.value.outcome).toBe('accepted');
    }
    await Promise.all(moves);
    expect(mover.where('T')).toBe('cloud');
    await until(() => gateway.outbox.stats().rows === 0, 'the outbox to drain');
    const fromGateway = (): number => stored.filter((s) => s.where === 'gateway').length;
    let n = -1;
    while (n !== fromGateway()) {
      n = fromGateway();
      await new Promise((r) => setTimeout(r, 300));
    }

    const want = await reference(N);
    for (const k of [...COMPOSITES, 'T/S']) {
      const got = stored.filter((s) => `${s.so}/${s.stream}` === k).map((s) => s.value);
      const ids = got.map((v) => v.id);
      expect(new Set(ids).size, `${k}: an output twice`).toBe(ids.length);
      if (k !== 'T/S')
        expect(
          got.sort((a, b) => a.lastUpdate - b.lastUpdate),
          k,
        ).toEqual(want.get(k));
      if (k !== 'T/S')
        expect(want.get(k), k).toHaveLength(N); // every update reaches every composite
      else expect(got).toHaveLength(N);
    }
    expect(refused).toEqual([]);
    const both = new Set(stored.map((s) => s.where));
    expect(both).toEqual(new Set(['cloud', 'gateway']));
    console.log(`so-move: moves at ${at.join(', ')}; ${fromGateway()} values came up from the gateway, ${stored.length - fromGateway()} from the cloud`);
  }, 90_000);
});
