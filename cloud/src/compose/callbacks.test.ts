import { createHmac } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import Database from 'better-sqlite3';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { answerErrors } from '@ferry/rules-host';
import { ADMIN_TOKEN } from '@ferry/test-kit/http';
import { authenticate } from '../api/auth.ts';
import { soSubscriptionRoutes } from '../api/so-subscriptions.ts';
import { Identity } from '../identity/identity.ts';
import { SqliteIdentityStore } from '../storage/sqlite/identity-store.ts';
import { isPublicAddress } from './callback-http.ts';
import { SqliteSubscriptionStore } from './callback-store.ts';
import { CallbackDispatcher, type CallbackOptions } from './callbacks.ts';
import { SENSOR_SO, su, TestHosting } from './test-host.case.ts';

const SECRET = 'callback-secret-0123456789';
const ALICE = 'ferry_sk.alice-private';
const BOB = 'ferry_sk.bob-private';
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const eventually = async (cond: () => boolean, what: string): Promise<void> => {
  for (const end = Date.now() + 8000; !cond(); await sleep(10)) if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
};

interface Hit {
  readonly body: string;
  readonly headers: IncomingMessage['headers'];
}

/** A real loopback receiver: answers each POST with the next planned status (200 once the plan is used up), or never. */
class Receiver {
  readonly hits: Hit[] = [];
  plan: (number | 'hang')[] = [];
  #server: Server | undefined;
  url = '';
  async start(): Promise<void> {
    this.#server = createServer((req: IncomingMessage, res: ServerResponse) => {
      let body = '';
      req.on('data', (c: Buffer) => {
        body += c.toString();
      });
      req.on('end', () => {
        this.hits.push({ body, headers: req.headers });
        const next = this.plan.shift() ?? 200;
        if (next === 'hang') return;
        res.writeHead(next).end();
      });
    });
    await new Promise<void>((r) => this.#server!.listen(0, '127.0.0.1', () => r()));
    this.url = `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}/hook`;
  }
  async stop(): Promise<void> {
    this.#server?.closeAllConnections();
    await new Promise<void>((r) => this.#server?.close(() => r()));
  }
}

describe('HTTP callback subscriptions', () => {
  let host: TestHosting;
  let app: FastifyInstance;
  let api: string;
  let recv: Receiver;
  let dispatcher: CallbackDispatcher;
  let db: Database.Database;

  const setup = async (o: CallbackOptions): Promise<void> => {
    host = new TestHosting();
    await host.create('alice', 'so-a', SENSOR_SO);
    await host.create('bob', 'so-b', SENSOR_SO);
    db = new Database(':memory:');
    dispatcher = new CallbackDispatcher({ hosting: host, store: new SqliteSubscriptionStore(db), options: o });
    dispatcher.start();
    const identity = new Identity({
      store: new SqliteIdentityStore(db),
      adminToken: ADMIN_TOKEN,
      ownerOf: (t) => ({ [ALICE]: 'alice', [BOB]: 'bob' })[t],
    });
    app = Fastify({ logger: false });
    answerErrors(app);
    await authenticate(app, identity);
    soSubscriptionRoutes(app, dispatcher);
    api = await app.listen({ host: '127.0.0.1', port: 0 });
  };
  const call = async (method: string, path: string, token: string, body?: unknown): Promise<{ status: number; body: Record<string, unknown> & unknown[] }> => {
    const r = await fetch(`${api}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body !== undefined && { 'content-type': 'application/json' }) },
      ...(body !== undefined && { body: JSON.stringify(body) }),
    });
    const text = await r.text();
    return { status: r.status, body: text === '' ? undefined : JSON.parse(text) };
  };
  const subs = (so: string): string => `/api/v1/sos/${so}/streams/s/subscriptions`;

  beforeEach(async () => {
    recv = new Receiver();
    await recv.start();
  });
  afterEach(async () => {
    await dispatcher?.stop();
    await app?.close();
    await recv.stop();
    db?.close();
  });

  describe('with private addresses allowed (loopback receiver)', () => {
    beforeEach(() => setup({ allowPrivate: true, backoff: { initialMs: 20, maxMs: 80 }, maxAttempts: 4, timeoutMs: 300 }));

    it('POSTs each stored value, signed with HMAC-SHA256 over "<t>.<body>", with its id', async () => {
      const made = await call('POST', subs('so-a'), ALICE, { url: recv.url, secret: SECRET });
      expect(made.status).toBe(201);
      expect(made.body).not.toHaveProperty('secret');
      await host.push({ owner: 'alice' }, 'so-a', 's', su(7, 100));
      await host.push({ owner: 'alice' }, 'so-a', 's', su(8, 200));
      await eventually(() => recv.hits.length === 2, 'two deliveries');
      const [h] = recv.hits;
      const body = JSON.parse(h!.body) as Record<string, unknown>;
      expect(body).toEqual({ so: 'so-a', stream: 's', channels: { v: { 'current-value': 7 } }, lastUpdate: 100, id: 'src:100' });
      const m = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(String(h!.headers['x-ferry-signature']));
      expect(m).not.toBeNull();
      expect(m![2]).toBe(createHmac('sha256', SECRET).update(`${m![1]}.${h!.body}`).digest('hex'));
      expect(createHmac('sha256', 'another-secret-0000000').update(`${m![1]}.${h!.body}`).digest('hex')).not.toBe(m![2]);
      expect(h!.headers['x-ferry-delivery']).toBe('src:100');
      expect(recv.hits.map((x) => (JSON.parse(x.body) as { lastUpdate: number }).lastUpdate)).toEqual([100, 200]);
    });

    it('retries a 503 and a timeout with back-off, in order; gives up after maxAttempts; a 400 is not retried', async () => {
      await call('POST', subs('so-a'), ALICE, { url: recv.url, secret: SECRET });
      recv.plan = [503, 'hang', 200, 500, 500, 500, 500, 400];
      await host.push({ owner: 'alice' }, 'so-a', 's', su(1, 1));
      await host.push({ owner: 'alice' }, 'so-a', 's', su(2, 2));
      await host.push({ owner: 'alice' }, 'so-a', 's', su(3, 3));
      await eventually(() => dispatcher.counters.delivered + dispatcher.counters.failed === 3, 'three outcomes');
      // value 1: 503, timeout, 200; value 2: four 500s (given up); value 3: 400 (not retried).
      expect(recv.hits.map((x) => (JSON.parse(x.body) as { lastUpdate: number }).lastUpdate)).toEqual([1, 1, 1, 2, 2, 2, 2, 3]);
      expect(dispatcher.counters).toMatchObject({ delivered: 1, failed: 2, retries: 5 });
    });

    it('revoking the grant stops delivery to the other owner at once', async () => {
      host.grant('so-a', { stream: 's', to: { owner: 'bob' } });
      expect((await call('POST', subs('so-a'), BOB, { url: recv.url, secret: SECRET })).status).toBe(201);
      await host.push({ owner: 'alice' }, 'so-a', 's', su(1, 10));
      await eventually(() => recv.hits.length === 1, 'the granted delivery');
      host.revoke('so-a', { stream: 's', to: { owner: 'bob' } });
      await host.push({ owner: 'alice' }, 'so-a', 's', su(2, 20));
      await eventually(() => dispatcher.counters.forbidden === 1, 'the refusal');
      expect(recv.hits).toHaveLength(1);
    });

    it("another owner's stream and subscriptions answer 404; bad input a typed 400; the owner's own work", async () => {
      expect((await call('POST', subs('so-a'), BOB, { url: recv.url, secret: SECRET })).body).toMatchObject({ code: 'FERRY_SOFLOW_NOT_FOUND' });
      const mine = await call('POST', subs('so-a'), ALICE, { url: recv.url, secret: SECRET });
      const id = String(mine.body['id']);
      expect((await call('GET', subs('so-a'), BOB)).body).toEqual([]);
      expect((await call('DELETE', `${subs('so-a')}/${id}`, BOB)).status).toBe(404);
      expect((await call('POST', subs('so-a'), ALICE, { url: 'ftp://x/', secret: SECRET })).body).toMatchObject({ code: 'FERRY_SOFLOW_BAD_URL' });
      expect((await call('POST', subs('so-a'), ALICE, { url: recv.url, secret: 'short' })).body).toMatchObject({ code: 'FERRY_SOFLOW_BAD_SECRET' });
      expect(((await call('GET', subs('so-a'), ALICE)).body as { id: string }[]).map((s) => s.id)).toEqual([id]);
      expect((await call('DELETE', `${subs('so-a')}/${id}`, ALICE)).status).toBe(204);
      await host.push({ owner: 'alice' }, 'so-a', 's', su(1, 1));
      await sleep(100);
      expect(recv.hits).toEqual([]);
    });

    it('a subscription and the values waiting for it outlive a restart: the new dispatcher sends them, in order', async () => {
      const file = join(mkdtempSync(join(tmpdir(), 'ferry-so-cb-')), 'cloud.db');
      const first = new Database(file);
      // The receiver is down (503) and the back-off long: the values wait when the dispatcher stops.
      const before = new CallbackDispatcher({
        hosting: host,
        store: new SqliteSubscriptionStore(first),
        options: { allowPrivate: true, backoff: { initialMs: 60_000, maxMs: 60_000 } },
      });
      before.start();
      const made = await before.add({ owner: 'alice' }, 'so-a', 's', { url: recv.url, secret: SECRET });
      recv.plan = [503];
      await host.push({ owner: 'alice' }, 'so-a', 's', su(1, 100));
      await host.push({ owner: 'alice' }, 'so-a', 's', su(2, 200));
      await eventually(() => before.counters.retries === 1, 'the first failure');
      await before.stop(); // does not wait out the back-off
      first.close();
      const reopened = new Database(file);
      const after = new CallbackDispatcher({ hosting: host, store: new SqliteSubscriptionStore(reopened), options: { allowPrivate: true } });
      after.start();
      try {
        expect(after.list({ owner: 'alice' }, 'so-a', 's').map((x) => x.id)).toEqual([made.id]);
        await eventually(() => after.counters.delivered === 2, 'the waiting values after the restart');
        expect(recv.hits.map((h) => h.headers['x-ferry-delivery'])).toEqual(['src:100', 'src:100', 'src:200']);
        expect(new SqliteSubscriptionStore(reopened).pending('embedded')).toEqual([]);
      } finally {
        await after.stop();
        reopened.close();
      }
    });

    it('a full queue drops the oldest and counts it', async () => {
      await dispatcher.stop();
      dispatcher = new CallbackDispatcher({ hosting: host, store: new SqliteSubscriptionStore(db), options: { allowPrivate: true, queue: 2, timeoutMs: 400 } });
      dispatcher.start();
      await call('POST', subs('so-a'), ALICE, { url: recv.url, secret: SECRET });
      recv.plan = ['hang'];
      for (let i = 1; i <= 5; i++) await host.push({ owner: 'alice' }, 'so-a', 's', su(i, i));
      // 1 is in flight (hanging), 2 and 3 were dropped for 4 and 5.
      expect(dispatcher.counters.overflow).toBe(2);
      await eventually(() => recv.hits.length === 4, 'the retry and the rest');
      expect(recv.hits.map((x) => (JSON.parse(x.body) as { lastUpdate: number }).lastUpdate)).toEqual([1, 1, 4, 5]);
    });
  });

  describe('by default (private addresses refused)', () => {
    beforeEach(() => setup({}));

    it('refuses loopback, private and link-local callbacks at registration', async () => {
      for (const url of [
        recv.url,
        'http://localhost:9/x',
        'http://[::1]:9/',
        'http://169.254.169.254/latest',
        'http://10.1.2.3/',
        'http://[::ffff:127.0.0.1]/',
      ])
        expect([url, (await call('POST', subs('so-a'), ALICE, { url, secret: SECRET })).body]).toMatchObject([url, { code: 'FERRY_SOFLOW_PRIVATE_ADDRESS' }]);
      expect(recv.hits).toEqual([]);
    });

    it('checks the address again when it connects: a name that now resolves to loopback gets nothing', async () => {
      // As if the name had resolved to a public address at registration and to loopback since (DNS rebinding).
      new SqliteSubscriptionStore(db).add({
        id: 'rebound',
        owner: 'alice',
        so: 'so-a',
        stream: 's',
        url: recv.url.replace('127.0.0.1', 'localhost'),
        secret: SECRET,
        createdMs: 0,
      });
      await host.push({ owner: 'alice' }, 'so-a', 's', su(1, 1));
      await eventually(() => dispatcher.counters.failed === 1, 'the refusal');
      expect(dispatcher.counters.retries).toBe(0);
      expect(recv.hits).toEqual([]);
    });
  });
});

describe('isPublicAddress', () => {
  it('tells public from non-public addresses', () => {
    for (const a of [
      '127.0.0.1',
      '10.0.0.1',
      '172.16.5.5',
      '192.168.1.1',
      '169.254.169.254',
      '100.64.0.1',
      '0.0.0.0',
      '::1',
      'fe80::1',
      'fd00::1',
      '::ffff:10.0.0.1',
      '::ffff:7f00:1',
      'x',
    ])
      expect([a, isPublicAddress(a)]).toEqual([a, false]);
    for (const a of ['8.8.8.8', '1.1.1.1', '2606:4700:4700::1111']) expect([a, isPublicAddress(a)]).toEqual([a, true]);
  });
});
