/**
 * The composite-stream REST routes (/api/v1/sos), one suite for every running mode: `a` and `b` are the
 * HTTP APIs of two workers (the same one embedded). Objects are created on `a` and fed and read on `b`, so
 * the scale-out run proves a worker serves objects another made. ServIoTicy's fixtures go through unchanged,
 * except that a group names the ids the cloud gave its members (ServIoTicy too gave ids at creation).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { KV_WAT } from '@ferry/test-kit/functions';
import { ADMIN_TOKEN, call } from '@ferry/test-kit/http';

export { call };
import { wat } from '@ferry/test-kit/wat';
import { beforeAll, describe, expect, it } from 'vitest';
import type { CloudOptions } from '../service/service.ts';
import { testCloudOptions } from '../service/test-cloud.case.ts';

/** A test cloud's options: loopback ports picked by the system, a fresh data dir, the test admin credential. */
export const cloudOptions = (o: Partial<CloudOptions> = {}): CloudOptions => testCloudOptions({ name: 'sos', functionRunner: 'in-process', ...o });

export interface SoSystem {
  readonly a: string;
  readonly b: string;
}

const fixtures = new URL('../../../packages/compose/fixtures/', import.meta.url);
export const fixture = (f: string): Record<string, unknown> => JSON.parse(readFileSync(new URL(f, fixtures), 'utf8')) as Record<string, unknown>;
/** The document with its group naming `member` instead of ServIoTicy's test id. */
export const withMember = (doc: Record<string, unknown>, member: string): Record<string, unknown> =>
  JSON.parse(JSON.stringify(doc).replaceAll('"additional_so"', JSON.stringify(member))) as Record<string, unknown>;
export const su = (v: unknown, lastUpdate: number, ch = 'a') => ({ channels: { [ch]: { 'current-value': v } }, lastUpdate });

/** Registers an owner; its private token. */
export async function owner(api: string, id: string): Promise<string> {
  const r = await call(api, 'POST', '/api/owners', ADMIN_TOKEN, { id });
  if (r.status !== 201) throw new Error(`owner ${id}: ${r.status} ${JSON.stringify(r.body)}`);
  return (r.body as { privateToken: string }).privateToken;
}

/** Waits until `f` answers true (a scale-out worker learns owners through Redis a moment later). */
export async function until(f: () => Promise<boolean>, what: string, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await f())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export async function create(api: string, token: string, doc: unknown, query = ''): Promise<string> {
  const r = await call(api, 'POST', `/api/v1/sos${query}`, token, doc);
  if (r.status !== 201) throw new Error(`create: ${r.status} ${JSON.stringify(r.body)}`);
  return (r.body as { id: string }).id;
}

/** Reads server-sent events until `want` events came (or the stream ended); returns them. */
export async function readEvents(res: Response, want: number): Promise<{ event: string; data: unknown }[]> {
  const reader = res.body!.getReader();
  const out: { event: string; data: unknown }[] = [];
  let buf = '';
  while (out.length < want) {
    const { value, done } = await reader.read();
    if (done) break;
    buf += new TextDecoder().decode(value);
    for (let i = buf.indexOf('\n\n'); i >= 0; i = buf.indexOf('\n\n')) {
      const block = buf.slice(0, i);
      buf = buf.slice(i + 2);
      const event = /^event: (.*)$/m.exec(block)?.[1];
      const data = /^data: (.*)$/m.exec(block)?.[1];
      if (event !== undefined && data !== undefined) out.push({ event, data: JSON.parse(data) as unknown });
    }
  }
  await reader.cancel().catch(() => undefined);
  return out;
}

export function soRouteSuite(name: string, start: () => SoSystem): void {
  describe(`composite-stream REST routes: ${name}`, () => {
    let s: SoSystem;
    let alice: string;
    let bob: string;
    beforeAll(async () => {
      s = start();
      alice = await owner(s.a, 'alice');
      bob = await owner(s.a, 'bob');
      await until(async () => (await call(s.b, 'GET', '/api/v1/sos/none', bob)).status === 404, 'the owners on the second worker');
    });

    it('runs the 0.1.0 fixtures unchanged: an update propagates, the output is stored, history and lastUpdate answer', async () => {
      const member = await create(s.a, alice, fixture('0.1.0/additional-so.json'));
      const so = await create(s.a, alice, withMember(fixture('0.1.0/so-basic.json'), member));
      // The member's update triggers B too (A has no value yet and reads as null, as in ServIoTicy).
      expect((await call(s.b, 'PUT', `/api/v1/sos/${member}/streams/some_stream`, alice, su(1, 1))).body).toEqual({ outcome: 'accepted', outputs: 2 });
      expect((await call(s.b, 'PUT', `/api/v1/sos/${so}/streams/A`, alice, su(2, 2))).body).toEqual({ outcome: 'accepted', outputs: 2 });
      const last = await call(s.b, 'GET', `/api/v1/sos/${so}/streams/B/lastUpdate`, alice);
      expect(last.body).toMatchObject({ channels: { a: 3 }, lastUpdate: 2 });
      // Redelivered: dropped as not newer, nothing stored twice.
      expect((await call(s.b, 'PUT', `/api/v1/sos/${so}/streams/A`, alice, su(2, 2))).body).toEqual({ outcome: 'not-newer', outputs: 0 });
      await call(s.b, 'PUT', `/api/v1/sos/${so}/streams/A`, alice, su(5, 3));
      const h = await call(s.b, 'GET', `/api/v1/sos/${so}/streams/B?from=0&to=10`, alice);
      expect(h.body).toMatchObject({ data: [{ channels: { a: 1 } }, { channels: { a: 3 } }, { channels: { a: 6 } }] });
      expect((await call(s.b, 'GET', `/api/v1/sos/${so}/streams/B?from=3&to=3`, alice)).body).toMatchObject({ data: [{ channels: { a: 6 } }] });
      const got = await call(s.b, 'GET', `/api/v1/sos/${so}`, alice);
      expect(got.body).toMatchObject({ id: so, owner: 'alice', document: { streams: { B: { 'post-filter': 'true' } } } });
    });

    for (const version of ['0.1.0', '0.2.0']) {
      it(`installs every ${version} fixture through the API`, async () => {
        const files = readdirSync(new URL(`${version}/`, fixtures)).sort();
        expect(files.length).toBeGreaterThanOrEqual(6);
        const member = await create(s.a, alice, fixture(`${version}/additional-so.json`));
        for (const f of files.filter((x) => x !== 'additional-so.json')) {
          const r = await call(s.a, 'POST', '/api/v1/sos', alice, withMember(fixture(`${version}/${f}`), member));
          expect([f, r.status]).toEqual([f, 201]);
        }
      });
    }

    it('runs 0.2.0 functions unchanged in the sandbox', async () => {
      const member = await create(s.a, alice, fixture('0.2.0/additional-so.json'));
      const so = await create(s.a, alice, withMember(fixture('0.2.0/so-basic.json'), member));
      const arr = await create(s.a, alice, fixture('0.2.0/so-array.json'));
      await call(s.b, 'PUT', `/api/v1/sos/${member}/streams/some_stream`, alice, su(10, 1, '$'));
      expect((await call(s.b, 'PUT', `/api/v1/sos/${so}/streams/A`, alice, su(5, 2, '$'))).body).toEqual({ outcome: 'accepted', outputs: 2 });
      expect((await call(s.b, 'GET', `/api/v1/sos/${so}/streams/B/lastUpdate`, alice)).body).toMatchObject({ channels: { $: 15 } });
      const doc = fixture('0.2.0/so-array.json') as { streams: Record<string, { channels: Record<string, unknown> }> };
      const [src] = Object.entries(doc.streams).find(([, st]) => JSON.stringify(st).includes('current-value') === false)!;
      const [out] = Object.entries(doc.streams).find(([, st]) => JSON.stringify(st).includes('current-value'))!;
      await call(s.b, 'PUT', `/api/v1/sos/${arr}/streams/${src}`, alice, su([5, 11, 20], 1, '$'));
      expect((await call(s.b, 'GET', `/api/v1/sos/${arr}/streams/${out}/lastUpdate`, alice)).body).toMatchObject({ channels: { $: [false, true, true] } });
    });

    it('answers typed errors: a malformed document, a syntax error with its position, an unknown object, a bad update', async () => {
      const bad = await call(s.a, 'POST', '/api/v1/sos', alice, { streams: 3 });
      expect(bad).toMatchObject({ status: 400, body: { code: 'FERRY_COMPOSE_DOCUMENT' } });
      const syn = await call(s.a, 'POST', '/api/v1/sos', alice, {
        streams: {
          A: { channels: { a: { type: 'number' } } },
          B: { channels: { a: { type: 'number', 'current-value': '{$A.channels.a.current-value} +* 2' } } },
        },
      });
      expect(syn).toMatchObject({ status: 400, body: { code: 'FERRY_COMPOSE_SYNTAX' } });
      expect(syn).toMatchObject({ body: { message: expect.stringMatching(/stream B, channel a, position \d+/) } });
      const none = await call(s.b, 'PUT', '/api/v1/sos/nosuchobject/streams/A', alice, su(1, 1));
      expect(none).toMatchObject({ status: 404, body: { code: 'FERRY_COMPOSE_NOT_FOUND' } });
      const so = await create(s.a, alice, { streams: { A: { channels: { a: { type: 'number' } } } } });
      const wrong = await call(s.b, 'PUT', `/api/v1/sos/${so}/streams/A`, alice, su('text', 1));
      expect(wrong).toMatchObject({ status: 400, body: { code: 'FERRY_COMPOSE_UPDATE' } });
      const range = await call(s.b, 'GET', `/api/v1/sos/${so}/streams/A?from=5&to=1`, alice);
      expect(range).toMatchObject({ status: 400, body: { code: 'FERRY_COMPOSE_BAD_REQUEST' } });
      const global = await call(s.a, 'POST', '/api/v1/sos', ADMIN_TOKEN, { streams: {} });
      expect(global).toMatchObject({ status: 400, body: { code: 'FERRY_COMPOSE_BAD_REQUEST' } });
      expect((await call(s.a, 'POST', '/api/v1/sos?owner=alice', ADMIN_TOKEN, { streams: {} })).status).toBe(201);
    });

    it("keeps owners apart: another owner's object answers 404 to every route", async () => {
      const so = await create(s.a, alice, { streams: { A: { channels: { a: { type: 'number' } } } } });
      await call(s.b, 'PUT', `/api/v1/sos/${so}/streams/A`, alice, su(1, 1));
      for (const [m, p, body] of [
        ['GET', '', undefined],
        ['PUT', '', { streams: {} }],
        ['DELETE', '', undefined],
        ['PUT', '/streams/A', su(2, 2)],
        ['GET', '/streams/A/lastUpdate', undefined],
        ['GET', '/streams/A', undefined],
        ['GET', '/streams/A/explain', undefined],
        ['GET', '/streams/A/events', undefined],
        ['GET', '/grants', undefined],
        ['POST', '/grants', { stream: 'A', to: { owner: 'bob' } }],
      ] as const) {
        const r = await call(s.b, m, `/api/v1/sos/${so}${p}`, bob, body);
        expect([m, p, r.status]).toEqual([m, p, 404]);
      }
      expect((await call(s.b, 'GET', `/api/v1/sos/${so}/streams/A/lastUpdate`, alice)).body).toMatchObject({ lastUpdate: 1 });
    });

    it("reads another owner's stream only through a grant; revoking stops the flow at once", async () => {
      const src = await create(s.a, alice, { streams: { t: { channels: { a: { type: 'number' } } } } });
      const reader = {
        groups: { g: { soIds: [src], stream: 't' } },
        streams: { G: { channels: { a: { type: 'number', 'current-value': '{$g.channels.a.current-value} * 2' } } } },
      };
      const refused = await call(s.a, 'POST', '/api/v1/sos', bob, reader);
      expect(refused).toMatchObject({ status: 403, body: { code: 'FERRY_COMPOSE_FORBIDDEN' } });
      const g = { stream: 't', to: { owner: 'bob' } };
      expect((await call(s.a, 'POST', `/api/v1/sos/${src}/grants`, alice, g)).status).toBe(201);
      expect((await call(s.b, 'GET', `/api/v1/sos/${src}/grants`, alice)).body).toEqual({ grants: [g] });
      const mine = await create(s.a, bob, reader);
      await call(s.b, 'PUT', `/api/v1/sos/${src}/streams/t`, alice, su(4, 1));
      expect((await call(s.b, 'GET', `/api/v1/sos/${mine}/streams/G/lastUpdate`, bob)).body).toMatchObject({ channels: { a: 8 } });
      expect((await call(s.b, 'GET', `/api/v1/sos/${src}/streams/t/lastUpdate`, bob)).status).toBe(200); // through the grant
      expect((await call(s.b, 'PUT', `/api/v1/sos/${src}/streams/t`, bob, su(5, 2))).status).toBe(404); // reading is not feeding
      expect((await call(s.b, 'DELETE', `/api/v1/sos/${src}/grants`, alice, g)).status).toBe(204);
      await call(s.b, 'PUT', `/api/v1/sos/${src}/streams/t`, alice, su(5, 3));
      expect((await call(s.b, 'GET', `/api/v1/sos/${mine}/streams/G/lastUpdate`, bob)).body).toMatchObject({ channels: { a: 8 } });
      const ex = await call(s.b, 'GET', `/api/v1/sos/${mine}/streams/G/explain?n=1`, bob);
      expect(ex.body).toMatchObject({ entries: [{ outcome: 'forbidden' }] });
      expect((await call(s.b, 'GET', `/api/v1/sos/${src}/streams/t/lastUpdate`, bob)).status).toBe(404);
      expect((await call(s.b, 'DELETE', `/api/v1/sos/${src}/grants`, alice, g)).status).toBe(404);
    });

    it('streams stored values as server-sent events; a reader through a grant is cut off when it is revoked', async () => {
      const so = await create(s.a, alice, { streams: { t: { channels: { a: { type: 'number' } } } } });
      const g = { stream: '*', to: { owner: 'bob' } };
      await call(s.a, 'POST', `/api/v1/sos/${so}/grants`, alice, g);
      // Open on one worker, fed and revoked on the other (scale-out: through the relay).
      const own = await fetch(`${s.a}/api/v1/sos/${so}/streams/t/events`, { headers: { authorization: `Bearer ${alice}` } });
      const granted = await fetch(`${s.a}/api/v1/sos/${so}/streams/t/events`, { headers: { authorization: `Bearer ${bob}` } });
      expect([own.status, own.headers.get('content-type')]).toEqual([200, 'text/event-stream']);
      const ownEvents = readEvents(own, 2);
      const bobEvents = readEvents(granted, 3);
      await call(s.b, 'PUT', `/api/v1/sos/${so}/streams/t`, alice, su(1, 1));
      await call(s.b, 'PUT', `/api/v1/sos/${so}/streams/t`, alice, su(2, 2));
      expect(await ownEvents).toMatchObject([
        { event: 'value', data: { channels: { a: 1 }, lastUpdate: 1 } },
        { event: 'value', data: { channels: { a: 2 }, lastUpdate: 2 } },
      ]);
      await call(s.b, 'DELETE', `/api/v1/sos/${so}/grants`, alice, g);
      await call(s.b, 'PUT', `/api/v1/sos/${so}/streams/t`, alice, su(3, 3));
      const got = await bobEvents;
      expect(got).toMatchObject([{ data: { channels: { a: 1 } } }, { data: { channels: { a: 2 } } }, { event: 'end' }]);
    });

    it('replaces a document keeping the values of the streams it keeps, and deletes objects no other reads', async () => {
      const src = await create(s.a, alice, { streams: { t: { channels: { a: { type: 'number' } } } } });
      const rd = await create(s.a, alice, {
        groups: { g: { soIds: [src], stream: 't' } },
        streams: { G: { channels: { a: { type: 'number', 'current-value': '{$g.channels.a.current-value} + 1' } } } },
      });
      await call(s.b, 'PUT', `/api/v1/sos/${src}/streams/t`, alice, su(1, 1));
      const busy = await call(s.b, 'DELETE', `/api/v1/sos/${src}`, alice);
      expect(busy).toMatchObject({ status: 409, body: { code: 'FERRY_COMPOSE_IN_USE' } });
      const put = await call(s.b, 'PUT', `/api/v1/sos/${rd}`, alice, {
        groups: { g: { soIds: [src], stream: 't' } },
        streams: { G: { channels: { a: { type: 'number', 'current-value': '{$g.channels.a.current-value} + 100' } } } },
      });
      expect(put.status).toBe(200);
      expect((await call(s.b, 'GET', `/api/v1/sos/${rd}/streams/G/lastUpdate`, alice)).body).toMatchObject({ channels: { a: 2 } });
      await call(s.b, 'PUT', `/api/v1/sos/${src}/streams/t`, alice, su(1, 2));
      expect((await call(s.b, 'GET', `/api/v1/sos/${rd}/streams/G/lastUpdate`, alice)).body).toMatchObject({ channels: { a: 101 } });
      expect((await call(s.b, 'DELETE', `/api/v1/sos/${rd}`, alice)).status).toBe(204);
      expect((await call(s.b, 'DELETE', `/api/v1/sos/${src}`, alice)).status).toBe(204);
      expect((await call(s.a, 'GET', `/api/v1/sos/${src}`, alice)).status).toBe(404);
    });

    it('runs a wasm function by hash, white-listed by its owner, under the function runner', async () => {
      const kv = wat(KV_WAT);
      const hash = createHash('sha256').update(kv).digest('hex');
      expect((await call(s.a, 'POST', '/api/functions/modules?namespace=compose', alice, kv, 'application/wasm')).status).toBeLessThan(300);
      const doc = {
        streams: {
          A: { channels: { a: { type: 'number' } } },
          B: { channels: { a: { type: 'number' } } },
          S: { channels: { a: { type: 'number', 'current-value': { fn: hash, export: 'add', inputs: ['A', 'B'] } } } },
        },
      };
      const so = await create(s.a, alice, doc);
      await call(s.b, 'PUT', `/api/v1/sos/${so}/streams/A`, alice, su(2, 1));
      await call(s.b, 'PUT', `/api/v1/sos/${so}/streams/B`, alice, su(3, 2));
      const ex = await call(s.b, 'GET', `/api/v1/sos/${so}/streams/S/explain?n=1`, alice);
      // Not white-listed yet: counted as an error, nothing emitted.
      expect(ex.body).toMatchObject({ counters: { errors: 2 }, entries: [{ outcome: 'error', detail: expect.stringMatching(/NOT_WHITELISTED/) }] });
      await call(s.a, 'POST', '/api/functions/whitelist', alice, { namespace: 'compose', hash, allowed: true });
      await until(async () => {
        await call(s.b, 'PUT', `/api/v1/sos/${so}/streams/B`, alice, su(3, Date.now()));
        return (await call(s.b, 'GET', `/api/v1/sos/${so}/streams/S/lastUpdate`, alice)).status === 200;
      }, 'the white-list on the second worker');
      expect((await call(s.b, 'GET', `/api/v1/sos/${so}/streams/S/lastUpdate`, alice)).body).toMatchObject({ channels: { a: 5 } });
    });
  });
}
