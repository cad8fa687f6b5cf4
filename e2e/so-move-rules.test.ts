/**
 * The rules of a composite-stream move (cloud/src/compose/move.ts, cloud/src/api/so-move.ts), with the
 * gateway's real routes behind a control channel that can lose replies: who may move what where, a target
 * that refuses (the component goes back, working), a reply lost on the way (asked again, same snapshots),
 * and a gateway that gives back an object of another owner.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import { MemoryStore } from '@ferry/compose';
import { ComposeHost, GatewayComposeStore, composeRoutes } from '@ferry/gateway';
import { answerErrors } from '@ferry/rules-host';
import { type Locations, SoMover } from '../cloud/src/compose/move.ts';
import { soMoveRoutes } from '../cloud/src/api/so-move.ts';
import { SqliteSoLocations } from '../cloud/src/storage/sqlite/so-locations.ts';
import { OBJECTS, update } from './so-topology.ts';

const host = () => new ComposeHost({ store: new MemoryStore(), clock: { now: () => 0 } });
/** The gateway's compose routes over `edge`, as its daemon serves them. */
function edgeApi(edge: ComposeHost): ReturnType<typeof Fastify> {
  const api = Fastify();
  answerErrors(api);
  composeRoutes(api, edge);
  return api;
}

async function system(gatewayOwner: string | undefined = 'alice', locations?: Locations) {
  const cloud = host();
  for (const [so, doc] of OBJECTS) await cloud.create({ global: true }, so, 'alice', doc);
  await cloud.create({ global: true }, 'M', 'mallory', { streams: { s: { channels: { a: { type: 'number' } } } } });
  // The gateway's own store: it remembers what a component left with, so a lost reply can be asked again.
  const edge = new ComposeHost({ store: new GatewayComposeStore(':memory:'), clock: { now: () => 0 } });
  const api = edgeApi(edge);
  /** Replies the control channel loses (the gateway did the work; the cloud hears nothing). */
  let lose = 0;
  const mover = new SoMover({
    host: cloud,
    ...(locations !== undefined && { locations }),
    gateway: (id) => (id === 'gw' ? { owner: gatewayOwner } : id === 'gw-m' ? { owner: 'mallory' } : undefined),
    gatewayRequest: async (_gw, method, path, body) => {
      const r = await api.inject({ method, url: path, payload: body as object });
      if (lose > 0) {
        lose--;
        throw new Error('FERRY_CTL_TIMEOUT: no reply');
      }
      return { status: r.statusCode, body: r.json() };
    },
  });
  return { cloud, edge, api, mover, lose: (n: number) => (lose = n) };
}

describe('moving composite streams: who, where, and when the other side fails', () => {
  it("moves an owner's component to the owner's gateway and back; never to another owner's gateway, never another owner's object", async () => {
    const { cloud, edge, mover } = await system();
    await cloud.push({ owner: 'alice' }, 'T', 'S', update(0));
    const toOther = await mover.move({ owner: 'alice' }, 'T', 'gateway:gw-m');
    expect(!toOther.ok && toOther.error.code).toBe('FERRY_API_MOVE_TARGET');
    const notMine = await mover.move({ owner: 'alice' }, 'M', 'gateway:gw');
    expect(!notMine.ok && notMine.error.code).toBe('FERRY_COMPOSE_NOT_FOUND');
    expect(cloud.list({ global: true }).map((o) => o.id)).toEqual(['T', 'U', 'M']);

    expect(await mover.move({ owner: 'alice' }, 'T', 'gateway:gw')).toEqual({ ok: true, value: { from: 'cloud', to: 'gateway:gw', so: ['T', 'U'] } });
    expect(edge.list({ global: true }).map((o) => o.id)).toEqual(['T', 'U']);
    // Pushes follow the object; another owner's push is refused before it reaches the gateway.
    const pushed = await mover.push({ owner: 'alice' }, 'T', 'S', update(1));
    expect(pushed.ok && pushed.value.outcome).toBe('accepted');
    const mallory = await mover.push({ owner: 'mallory' }, 'T', 'S', update(2));
    expect(!mallory.ok && mallory.error.code).toBe('FERRY_COMPOSE_NOT_FOUND');
    const stolen = await mover.move({ owner: 'mallory' }, 'T', 'cloud');
    expect(!stolen.ok && stolen.error.code).toBe('FERRY_COMPOSE_NOT_FOUND');

    expect(await mover.move({ owner: 'alice' }, 'U', 'cloud')).toMatchObject({ ok: true, value: { from: 'gateway:gw', to: 'cloud' } });
    expect((await cloud.engine.latest('T', 'Acc'))?.channels['a']).toBe(update(0).channels.a['current-value'] + update(1).channels.a['current-value']);
  });

  it('a gateway that refuses the component: it goes back to the cloud, values and all, and keeps computing', async () => {
    const { cloud, edge, mover } = await system();
    await cloud.push({ owner: 'alice' }, 'T', 'S', update(0));
    await edge.create({ global: true }, 'U', 'bob', { streams: { x: { channels: { a: { type: 'number' } } } } }); // U is taken there
    const r = await mover.move({ owner: 'alice' }, 'T', 'gateway:gw');
    expect(!r.ok && r.error.code).toBe('FERRY_API_MOVE_FAILED');
    expect([
      mover.where('T'),
      cloud
        .list({ global: true })
        .map((o) => o.id)
        .sort(),
    ]).toEqual(['cloud', ['M', 'T', 'U']]);
    expect(edge.list({ global: true }).map((o) => o.id)).toEqual(['U']); // nothing half-installed
    const next = await cloud.push({ owner: 'alice' }, 'T', 'S', update(1));
    expect(next.ok && next.value.outputs.map((o) => o.stream)).toEqual(['S', 'B', 'Acc', 'C', 'D', 'E']);
  });

  it('where objects went, and their streams, outlive the cloud (cloud.db): after a restart they are listed and moved back', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'ferry-so-locations-')), 'cloud.db');
    const db = new Database(file);
    const { edge, mover } = await system('alice', new SqliteSoLocations(db));
    expect((await mover.move({ owner: 'alice' }, 'T', 'gateway:gw')).ok).toBe(true);
    db.close(); // the cloud stops; its host forgets T and U, which left it
    const again = new SqliteSoLocations(new Database(file));
    expect(again.get('T')).toEqual({ where: 'gateway:gw', owner: 'alice', streams: ['S', 'B', 'C', 'D', 'Acc'] });
    expect(
      again
        .elsewhere()
        .map((e) => [e.so, e.where, e.owner, e.streams])
        .sort(),
    ).toEqual([
      ['T', 'gateway:gw', 'alice', ['S', 'B', 'C', 'D', 'Acc']],
      ['U', 'gateway:gw', 'alice', ['E']],
    ]);
    // The restarted cloud's mover, on the same records, brings them back from the same gateway.
    const restarted = new SoMover({
      host: host(),
      locations: again,
      gateway: (id) => (id === 'gw' ? { owner: 'alice' } : undefined),
      gatewayRequest: async (_gw, method, path, body) => {
        const r = await edgeApi(edge).inject({ method, url: path, payload: body as object });
        return { status: r.statusCode, body: r.json() };
      },
    });
    expect(await restarted.move({ owner: 'alice' }, 'T', 'cloud')).toMatchObject({ ok: true, value: { from: 'gateway:gw', to: 'cloud' } });
    expect([again.get('T'), again.elsewhere()]).toEqual([undefined, []]);
  });

  it('a reply lost on the way back from the gateway: asked again, the same snapshots come, and nothing is lost', async () => {
    const { cloud, edge, mover, lose } = await system();
    expect((await mover.move({ global: true }, 'T', 'gateway:gw')).ok).toBe(true);
    await mover.push({ global: true }, 'T', 'S', update(5));
    lose(1);
    expect(await mover.move({ global: true }, 'T', 'cloud')).toMatchObject({ ok: true, value: { so: ['T', 'U'] } });
    expect(edge.list({ global: true })).toEqual([]);
    expect((await cloud.engine.latest('U', 'E'))?.lastUpdate).toBe(6);
  });

  it("refuses what an ownerless gateway gives back for objects it never got, and a gateway's values of another owner", async () => {
    // The cloud put X (of alice) on the ownerless gateway; the gateway answers with an X of mallory.
    const at = new Map([['X', { where: 'gateway:gw' as const, owner: 'alice' }]]);
    const { cloud, edge, mover } = await system(undefined, { get: (so) => at.get(so), set: () => undefined });
    await edge.create({ global: true }, 'X', 'mallory', { streams: { s: { channels: { a: { type: 'number' } } } } });
    const r = await mover.move({ global: true }, 'X', 'cloud');
    expect(!r.ok && [r.error.code, r.error.message]).toEqual(['FERRY_API_MOVE_FAILED', 'gateway gw gave back an object of another owner']);
    expect(cloud.list({ global: true }).some((o) => o.id === 'X')).toBe(false);
    expect(edge.list({ global: true }).map((o) => o.id)).toEqual(['X']); // given back to the gateway, running
    expect(await mover.fromGateway('gw-m', { kind: 'output', owner: 'alice', so: 'T', stream: 'B', value: { channels: {}, lastUpdate: 1, id: 'x' } })).toMatch(
      /another owner/,
    );
    expect(await mover.fromGateway('nope', { kind: 'feed', so: 'T', stream: 'S', update: update(0) })).toMatch(/no gateway/);
  });

  it('POST /api/v1/sos/{so}/move declares operator access and answers a malformed body 400', async () => {
    const { mover } = await system();
    const app = Fastify();
    answerErrors(app);
    const access: unknown[] = [];
    app.addHook('onRoute', (r) => {
      access.push(r.config?.access);
    });
    app.addHook('onRequest', async (req) => {
      req.principal = { id: 'p', owner: 'alice', role: 'operator', via: 'api-token' };
    });
    soMoveRoutes(app, mover);
    await app.ready();
    expect(access).toEqual(['operator']);
    expect((await app.inject({ method: 'POST', url: '/api/v1/sos/T/move', payload: { to: 7 } })).statusCode).toBe(400);
    const ok = await app.inject({ method: 'POST', url: '/api/v1/sos/T/move', payload: { to: 'gateway:gw' } });
    expect([ok.statusCode, ok.json()]).toEqual([200, { from: 'cloud', to: 'gateway:gw', so: ['T', 'U'] }]);
    const other = await app.inject({ method: 'POST', url: '/api/v1/sos/M/move', payload: { to: 'gateway:gw' } });
    expect(other.statusCode).toBe(404);
  });
});
