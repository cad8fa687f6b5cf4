/**
 * RemoteFunction and NamespaceMinimum against an in-memory transport, a fake cloud and manual timers
 * (no real timers, no sockets: the test drives time and the transport). The fake cloud speaks the MQTT call protocol of
 * cloud/src/service/calls.ts and runs the same module bytes over its own namespace state;
 * e2e/board-remote.test.ts runs the real cloud service.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { decode } from '@ferry/message';
import { compile, MemoryState, type CompiledModule } from '@ferry/wasm-host';
import { MIN_TEMPERATURE_WASM, THERMOSTAT_WASM } from '../paths.ts';
import { EmulatedBoard } from './board.ts';
import { VirtualClock } from './clock.ts';
import { LocalFunction, type FunctionOutput } from './local-function.ts';
import { centiText, NamespaceMinimum, NO_READING, NS_MIN_KEY } from './namespace-min.ts';
import { RemoteFunction, type CallTransport, type RemoteFunctionOptions, type RemoteResult, type Timers } from './remote.ts';

const MODULE = new Uint8Array(readFileSync(MIN_TEMPERATURE_WASM));
const HASH = createHash('sha256').update(MODULE).digest('hex');
const START = Date.UTC(2026, 0, 1);
const key = new Uint8Array(32).map((_, i) => i + 7);
let thermostat: CompiledModule;
beforeAll(async () => {
  const c = await compile(readFileSync(THERMOSTAT_WASM));
  if (!c.ok) throw c.errors[0];
  thermostat = c.value;
});

/** Timers that fire only when the test says time has passed. */
class ManualTimers implements Timers {
  private nowMs = 0;
  private nextId = 1;
  private readonly due = new Map<number, { at: number; fn: () => void }>();
  setTimeout(fn: () => void, ms: number): unknown {
    const id = this.nextId++;
    this.due.set(id, { at: this.nowMs + ms, fn });
    return id;
  }
  clearTimeout(h: unknown): void {
    this.due.delete(h as number);
  }
  get armed(): number {
    return this.due.size;
  }
  advance(ms: number): void {
    this.nowMs += ms;
    for (const [id, t] of [...this.due].sort((a, b) => a[1].at - b[1].at)) {
      if (t.at > this.nowMs) break;
      this.due.delete(id);
      t.fn();
    }
  }
}

type Handler = (req: Record<string, unknown>) => Promise<Record<string, unknown> | undefined>;

/** An MQTT client whose broker is a function: what is published on .../call is answered on .../res. */
class FakeTransport implements CallTransport {
  connected = true;
  readonly calls: Record<string, unknown>[] = [];
  readonly subscriptions: string[] = [];
  handler: Handler = async () => undefined;
  private readonly listeners = { message: new Set<(t: string, p: Buffer) => void>(), connect: new Set<() => void>(), close: new Set<() => void>() };
  publish(topic: string, message: string, _opts: { qos: 0 }, callback: (error?: Error) => void): unknown {
    callback();
    const req = JSON.parse(message) as Record<string, unknown>;
    this.calls.push(req);
    void this.handler(req).then((reply) => {
      if (reply !== undefined) this.deliver(topic.replace(/\/call$/, '/res'), { id: req['id'], ...reply });
    });
    return this;
  }
  subscribe(topic: string, _opts: { qos: 0 }, callback: (error: Error | null, granted?: readonly { qos: number }[]) => void): unknown {
    this.subscriptions.push(topic);
    callback(null, [{ qos: 0 }]);
    return this;
  }
  on(event: 'message' | 'connect' | 'close', listener: never): unknown {
    (this.listeners[event] as Set<unknown>).add(listener);
    return this;
  }
  removeListener(event: 'message' | 'connect' | 'close', listener: never): unknown {
    (this.listeners[event] as Set<unknown>).delete(listener);
    return this;
  }
  deliver(topic: string, body: unknown): void {
    for (const l of this.listeners.message) l(topic, Buffer.from(JSON.stringify(body)));
  }
  drop(): void {
    this.connected = false;
    for (const l of this.listeners.close) l();
  }
  reconnect(): void {
    this.connected = true;
    for (const l of this.listeners.connect) l();
  }
  get listening(): number {
    return this.listeners.message.size + this.listeners.connect.size + this.listeners.close.size;
  }
}

/** The cloud's side of the protocol: white-list, registry by hash, the module run over the namespace. */
class FakeCloud {
  readonly namespace = new MemoryState();
  readonly modules = new Map<string, Uint8Array>();
  readonly uploads: { url: string; auth: string | null; type: string | null }[] = [];
  whitelisted = true;
  refuseUpload: { status: number; body: unknown } | undefined;
  private fn: LocalFunction | undefined;
  private readonly clock: { nowMs(): number; uptimeMs(): number };
  constructor(clock: { nowMs(): number; uptimeMs(): number }) {
    this.clock = clock;
  }

  readonly handle: Handler = async (req) => {
    if (!this.whitelisted) return { ok: false, error: { code: 'FERRY_FN_NOT_WHITELISTED', num: 4105, message: `${String(req['hash'])} is not white-listed` } };
    const bytes = this.modules.get(String(req['hash']));
    if (bytes === undefined) return { ok: false, error: { code: 'FERRY_FN_MODULE_NEEDED', num: 4002, message: 'upload it' } };
    if (this.fn === undefined) {
      const f = await LocalFunction.create(bytes, { deviceId: 'caller', state: this.namespace, clock: this.clock });
      if (!f.ok) throw f.error;
      this.fn = f.value;
    }
    const r = await this.fn.run(String(req['export']), req['args'] as string[]);
    return r.ok ? { ok: true, ...r.value } : { ok: false, error: { code: r.error.code, num: r.error.num, message: r.error.message } };
  };

  readonly fetch = (async (url: string | URL | Request, init?: RequestInit) => {
    const h = new Headers(init?.headers);
    this.uploads.push({ url: String(url), auth: h.get('authorization'), type: h.get('content-type') });
    if (this.refuseUpload !== undefined) return Response.json(this.refuseUpload.body, { status: this.refuseUpload.status });
    const bytes = new Uint8Array(init?.body as Uint8Array);
    const hash = createHash('sha256').update(bytes).digest('hex');
    this.modules.set(hash, bytes);
    return Response.json({ hash }, { status: 201 });
  }) as typeof globalThis.fetch;
}

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));
const reading = (centi: number, atMs: number): Uint8Array => new TextEncoder().encode(`${centiText(centi)} ${atMs}`);
const valueFrom = (r: RemoteResult): FunctionOutput['value'] => {
  if (!r.ok) throw r.error;
  return r.value;
};

/** Option overrides; `undefined` removes an option (no transport, no httpUrl). */
type Overrides = { [K in keyof RemoteFunctionOptions]?: RemoteFunctionOptions[K] | undefined };

function setup() {
  const clock = new VirtualClock(START);
  const host = { deviceId: 'th-01', state: new MemoryState(), clock };
  const transport = new FakeTransport();
  const cloud = new FakeCloud(clock);
  transport.handler = cloud.handle;
  const timers = new ManualTimers();
  const make = (over: Overrides = {}): Promise<RemoteFunction> => {
    const o = { module: MODULE, host, namespace: 'flat', token: 'tok', transport, httpUrl: 'http://cloud.test', fetch: cloud.fetch, timers, ...over };
    return RemoteFunction.create(Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as unknown as RemoteFunctionOptions);
  };
  return { clock, host, transport, cloud, timers, make };
}

describe('RemoteFunction', () => {
  it('names the module by its SHA-256 and runs it locally when there is no connection', async () => {
    const s = setup();
    s.host.state.set('temp.kitchen', reading(2150, START));
    s.host.state.set('temp.hall', reading(1990, START - 1000));
    const fn = await s.make({ transport: undefined });
    expect(fn.hash).toBe(HASH);
    const r = await fn.call('min_temperature', [-1n]);
    expect(r).toMatchObject({ ok: true, where: 'local', reason: 'offline', value: 1990, emits: [], logs: [] });
    s.transport.connected = false;
    expect(await (await s.make()).call('min_temperature', ['-1'])).toMatchObject({ where: 'local', reason: 'offline', value: 1990 });
    expect(s.transport.calls).toEqual([]);
  });

  it("uploads the module when the cloud asks for it, retries once, and takes the cloud's answer", async () => {
    const s = setup();
    s.cloud.namespace.set('temp.bedroom', reading(1875, START)); // only the cloud knows this reader
    const fn = await s.make();
    const r = await fn.call('min_temperature', [300_000n]);
    expect(r).toMatchObject({ ok: true, where: 'cloud', value: 1875 });
    expect(r.ok && r.reason).toBe(undefined);
    expect(s.cloud.uploads).toEqual([{ url: 'http://cloud.test/api/functions/modules?namespace=flat', auth: 'Bearer tok', type: 'application/wasm' }]);
    expect(s.cloud.modules.has(HASH)).toBe(true);
    // The call as the cloud's MQTT API reads it; the i64 travels as a decimal string.
    expect(s.transport.calls[0]).toEqual({ id: expect.any(String), hash: HASH, export: 'min_temperature', args: ['300000'], namespace: 'flat', token: 'tok' });
    expect(s.transport.subscriptions).toEqual(['ferry/fn/th-01/res']);
    expect(valueFrom(await fn.call('min_temperature', [300_000n]))).toBe(1875);
    expect(fn.stats).toEqual({ cloud: 2, local: 0, uploads: 1, lateReplies: 0 });
    expect([fn.pending, s.timers.armed]).toEqual([0, 0]);
  });

  it('answers locally after the timeout, ignores the late reply and keeps no pending call', async () => {
    const s = setup();
    s.cloud.modules.set(HASH, MODULE);
    s.host.state.set('temp.kitchen', reading(2150, START));
    s.cloud.namespace.set('temp.bedroom', reading(1875, START));
    let release: () => void = () => undefined;
    s.transport.handler = (req) =>
      new Promise((resolve) => {
        release = () => void s.cloud.handle(req).then(resolve);
      });
    const fn = await s.make({ timeoutMs: 250 });
    const p = fn.call('min_temperature', [-1n]);
    await tick();
    expect(fn.pending).toBe(1);
    s.timers.advance(249);
    await tick();
    expect(fn.pending).toBe(1);
    s.timers.advance(1);
    expect(await p).toMatchObject({ ok: true, where: 'local', reason: 'timeout', value: 2150 });
    expect(fn.pending).toBe(0);
    release();
    await vi.waitFor(() => expect(fn.stats.lateReplies).toBe(1));
    expect(fn.stats).toEqual({ cloud: 0, local: 1, uploads: 0, lateReplies: 1 });
    expect([fn.pending, s.timers.armed]).toEqual([0, 0]);
    // The cloud answering again is used again.
    s.transport.handler = s.cloud.handle;
    expect(await fn.call('min_temperature', [-1n])).toMatchObject({ where: 'cloud', value: 1875 });
  });

  it('a connection lost while waiting answers locally at once; the reply topic is subscribed again on reconnect', async () => {
    const s = setup();
    s.cloud.modules.set(HASH, MODULE);
    s.transport.handler = () => new Promise(() => undefined); // never answers
    const fn = await s.make();
    const p = fn.call('min_temperature', [-1n]);
    await tick();
    s.transport.drop();
    expect(await p).toMatchObject({ where: 'local', reason: 'offline', value: NO_READING });
    expect([fn.pending, s.timers.armed]).toEqual([0, 0]);
    s.transport.handler = s.cloud.handle;
    s.transport.reconnect();
    expect(await fn.call('min_temperature', [-1n])).toMatchObject({ where: 'cloud' });
    expect(s.transport.subscriptions).toEqual(['ferry/fn/th-01/res', 'ferry/fn/th-01/res']);
  });

  it.each([
    ['FERRY_FN_NOT_WHITELISTED', 4105],
    ['FERRY_FN_BAD_TOKEN', 4101],
    ['FERRY_FN_TOKEN_EXPIRED', 4102],
    ['FERRY_FN_FORBIDDEN_NAMESPACE', 4104],
    ['FERRY_FN_BAD_ARGS', 4007],
    ['FERRY_FN_NO_SUCH_EXPORT', 4006],
  ])("surfaces %s, a refusal that is the caller's to fix, without running locally", async (code, num) => {
    const s = setup();
    s.transport.handler = async () => ({ ok: false, error: { code, num, message: `${code}: refused`, details: ['why'] } });
    const fn = await s.make();
    const r = await fn.call('min_temperature', [-1n]);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.error).toMatchObject({ name: 'FunctionCallError', code, num, where: 'cloud', details: ['why'], message: `${code}: refused` });
    expect(fn.stats.local).toBe(0);
  });

  it.each(['FERRY_FN_BUSY', 'FERRY_FN_RATE_LIMITED', 'FERRY_FN_TIMEOUT', 'FERRY_FN_TRAP'])(
    'falls back on %s: the cloud cannot serve the call now',
    async (code) => {
      const s = setup();
      s.host.state.set('temp.kitchen', reading(2150, START));
      s.transport.handler = async () => ({ ok: false, error: { code, message: 'not now' } });
      const fn = await s.make();
      expect(await fn.call('min_temperature', [-1n])).toMatchObject({ ok: true, where: 'local', reason: code, value: 2150 });
    },
  );

  it('an upload the cloud refuses is surfaced; one that cannot get through falls back', async () => {
    const s = setup();
    s.cloud.refuseUpload = { status: 401, body: { code: 'FERRY_FN_BAD_TOKEN', num: 4101, message: 'FERRY_FN_BAD_TOKEN: no' } };
    const refused = await (await s.make()).call('min_temperature', [-1n]);
    expect(refused.ok === false && refused.error).toMatchObject({ code: 'FERRY_FN_BAD_TOKEN', where: 'upload' });
    s.cloud.refuseUpload = { status: 502, body: 'bad gateway' };
    expect(await (await s.make()).call('min_temperature', [-1n])).toMatchObject({ where: 'local', reason: 'upload-failed' });
    const down = await s.make({
      fetch: (async () => {
        throw new TypeError('fetch failed');
      }) as typeof globalThis.fetch,
    });
    expect(await down.call('min_temperature', [-1n])).toMatchObject({ where: 'local', reason: 'upload-failed' });
    const noUrl = await (await s.make({ httpUrl: undefined })).call('min_temperature', [-1n]);
    expect(noUrl.ok === false && noUrl.error).toMatchObject({ code: 'FERRY_FN_MODULE_NEEDED', where: 'upload' });
  });

  it('checks args locally as the cloud does: same codes offline', async () => {
    const s = setup();
    const fn = await s.make({ transport: undefined });
    for (const [args, code] of [
      [[], 'FERRY_FN_BAD_ARGS'],
      [['1.5'], 'FERRY_FN_BAD_ARGS'],
      [[1.5], 'FERRY_FN_BAD_ARGS'],
    ] as const) {
      const r = await fn.call('min_temperature', args);
      expect(r.ok === false && r.error).toMatchObject({ code, num: 4007, where: 'local' });
    }
    const r = await fn.call('nope', []);
    expect(r.ok === false && r.error.code).toBe('FERRY_FN_NO_SUCH_EXPORT');
    expect(valueFrom(await fn.call('abi_version', []))).toBe(1);
  });

  it('takes only its own replies from a shared reply topic, and lets go of the transport on close', async () => {
    const s = setup();
    s.cloud.modules.set(HASH, MODULE);
    const [a, b] = [await s.make(), await s.make()];
    s.transport.deliver('ferry/fn/th-01/res', { id: 'someone-else.1', ok: true, value: 1 });
    const [ra, rb] = await Promise.all([a.call('abi_version', []), b.call('abi_version', [])]);
    expect([ra, rb].map((r) => r.ok && r.where)).toEqual(['cloud', 'cloud']);
    expect(a.stats.lateReplies + b.stats.lateReplies).toBe(0);
    a.close();
    b.close();
    expect(s.transport.listening).toBe(0);
  });
});

describe('NamespaceMinimum: the thermostat deciding with its namespace', () => {
  async function board(sensor: number, maxAgeS?: number): Promise<EmulatedBoard> {
    const b = await EmulatedBoard.create({ key, wasm: thermostat, startMs: START, room: { noiseC: 0 } });
    b.sensorOverride = sensor;
    b.state.setText('cfg.min_on_s', '0');
    b.state.setText('cfg.min_off_s', '0');
    if (maxAgeS !== undefined) b.state.setText('cfg.max_age_s', String(maxAgeS));
    await b.boot();
    return b;
  }
  const lastTel = (b: EmulatedBoard): Record<string, unknown> => {
    const tel = b.messages
      .map((t) => {
        const r = decode(t);
        if (!r.ok) throw r.error;
        return r.value;
      })
      .filter((m) => m.claims['ev'] === 'tel');
    return tel.at(-1)!.claims['d'] as Record<string, unknown>;
  };

  it("online the cloud's cold room turns the furnace on; offline the board decides alone, its own old answer not fed back", async () => {
    const b = await board(2100);
    const transport = new FakeTransport();
    const cloud = new FakeCloud(b.clock);
    cloud.modules.set(HASH, MODULE);
    transport.handler = cloud.handle;
    cloud.namespace.set('temp.bedroom', reading(1800, START));
    const nm = await NamespaceMinimum.create(b, { namespace: 'flat', token: 'tok', transport, timers: new ManualTimers() });
    const online = await nm.tick();
    expect(online.min).toMatchObject({ where: 'cloud', value: 1800 });
    expect(b.state.getText(NS_MIN_KEY)).toBe(`18.00 ${b.clock.nowMs()}`);
    expect(b.furnaceOn).toBe(true);
    expect(lastTel(b)).toMatchObject({ t: 21, tmin: 18, n: 2, heat: true });

    transport.drop();
    const offline = await nm.tick();
    // temp.ns-min (18.00, fresh) and temp.th-01 are in the board's state, but the local run does not see them.
    expect(offline.min).toMatchObject({ where: 'local', reason: 'offline', value: NO_READING });
    expect(b.state.getText(NS_MIN_KEY)).toBe(undefined);
    expect(b.furnaceOn).toBe(false);
    expect(lastTel(b)).toMatchObject({ tmin: 21, n: 1, heat: false });
  });

  it('a refusal is returned and the firmware still decides, on its own state', async () => {
    const b = await board(1800);
    const transport = new FakeTransport();
    const cloud = new FakeCloud(b.clock);
    cloud.whitelisted = false;
    transport.handler = cloud.handle;
    b.state.setText(NS_MIN_KEY, `15.00 ${START}`);
    const nm = await NamespaceMinimum.create(b, { namespace: 'flat', token: 'tok', transport, timers: new ManualTimers() });
    const r = await nm.tick();
    expect(r.min.ok === false && r.min.error.code).toBe('FERRY_FN_NOT_WHITELISTED');
    expect(r.tick.ok).toBe(true);
    expect(b.state.getText(NS_MIN_KEY)).toBe(undefined);
    expect(lastTel(b)).toMatchObject({ tmin: 18, heat: true });
  });

  it("the decision with the cloud's answer is the one the board makes holding the same readings (property)", async () => {
    // Readings: value (sometimes implausible or malformed) and age in 10 s steps offset by 5 s (some in the future).
    const entry = fc.record({
      value: fc.oneof(
        { weight: 8, arbitrary: fc.integer({ min: -6000, max: 10000 }).map(centiText) },
        { weight: 1, arbitrary: fc.constantFrom('x', '12.345', '') },
      ),
      ageS: fc.integer({ min: -3, max: 70 }).map((k) => k * 10 + 5),
    });
    const rooms = fc.dictionary(fc.stringMatching(/^[a-z][a-z0-9]{0,7}$/), entry, { maxKeys: 30 });
    await fc.assert(
      fc.asyncProperty(rooms, fc.integer({ min: 0, max: 60 }), fc.integer({ min: 1000, max: 3000 }), async (rs, maxAge10, own) => {
        const maxAgeS = maxAge10 * 10;
        const [withCloud, alone] = [await board(own, maxAgeS), await board(own, maxAgeS)];
        const transport = new FakeTransport();
        const cloud = new FakeCloud(withCloud.clock);
        cloud.modules.set(HASH, MODULE);
        transport.handler = cloud.handle;
        for (const [room, e] of Object.entries(rs)) {
          const v = new TextEncoder().encode(`${e.value} ${START - e.ageS * 1000}`);
          cloud.namespace.set(`temp.${room}`, v);
          alone.state.set(`temp.${room}`, v);
        }
        const nm = await NamespaceMinimum.create(withCloud, { namespace: 'flat', token: 'tok', transport, timers: new ManualTimers() });
        const r = await nm.tick(0);
        expect(r.min.ok && r.min.where).toBe('cloud');
        alone.tick(0);
        const [a, b] = [lastTel(withCloud), lastTel(alone)];
        expect({ tmin: a['tmin'], heat: a['heat'] }).toEqual({ tmin: b['tmin'], heat: b['heat'] });
        expect(withCloud.furnaceOn).toBe(alone.furnaceOn);
      }),
      { numRuns: 60 },
    );
  });
});
