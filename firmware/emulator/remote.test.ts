/**
 * RemoteFunction against an in-memory transport, a fake cloud and manual timers (no real timers, no sockets:
 * the test drives time and the transport); remote.rig.ts holds the fakes. e2e/board-remote.test.ts runs the
 * real cloud service.
 */
import { describe, expect, it, vi } from 'vitest';
import { MemoryState } from '@ferry/wasm-host';
import { VirtualClock } from './clock.ts';
import type { FunctionOutput } from './local-function.ts';
import { NO_READING } from './namespace-min.ts';
import { RemoteFunction, type RemoteFunctionOptions, type RemoteResult } from './remote.ts';
import { FakeCloud, FakeTransport, HASH, ManualTimers, MODULE, reading, receiverFor, START } from './remote.rig.ts';

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));
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
    const o = {
      module: MODULE,
      host,
      namespace: 'flat',
      token: 'tok',
      transport,
      downlink: receiverFor(),
      httpUrl: 'http://cloud.test',
      fetch: cloud.fetch,
      timers,
      ...over,
    };
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
    expect(fn.stats).toEqual({ cloud: 2, local: 0, uploads: 1, lateReplies: 0, forgedDownlink: 0 });
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
    expect(fn.stats).toEqual({ cloud: 0, local: 1, uploads: 0, lateReplies: 1, forgedDownlink: 0 });
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

  it('ignores and counts replies that are unsigned, forged, for another board or replayed; takes the genuine one', async () => {
    const s = setup();
    s.cloud.modules.set(HASH, MODULE);
    s.cloud.namespace.set('temp.bedroom', reading(2200, START));
    const other = new FakeTransport(new Uint8Array(32).fill(9)); // signs with a key that is not the board's
    const forTh02 = new FakeTransport(undefined, 'th-02'); // signs for another board
    let captured: Buffer | undefined;
    const fn = await s.make();
    s.transport.on('message', ((_t: string, p: Buffer) => {
      captured = p; // the last one of a call: the genuine reply
    }) as never);
    const real = s.cloud.handle;
    s.transport.handler = async (req) => {
      const forged = { id: req['id'], ok: true, value: -3900, emits: [], logs: [] };
      s.transport.deliver('ferry/fn/th-01/res', forged, false);
      for (const t of [other, forTh02]) s.transport.inject('ferry/fn/th-01/res', t.sign(forged));
      return real(req);
    };
    expect(await fn.call('min_temperature', ['-1'])).toMatchObject({ ok: true, where: 'cloud', value: 2200 });
    expect(fn.stats.forgedDownlink).toBe(3);
    // The genuine reply replayed while the next call is in flight: its call is settled, so it settles nothing
    // (counted as late); the call gets its own answer.
    s.transport.handler = async (req) => {
      s.transport.inject('ferry/fn/th-01/res', captured!);
      return real(req);
    };
    expect(await fn.call('min_temperature', ['-1'])).toMatchObject({ ok: true, where: 'cloud', value: 2200 });
    expect(fn.stats).toEqual({ cloud: 2, local: 0, uploads: 0, lateReplies: 1, forgedDownlink: 3 });
    await expect(RemoteFunction.create({ module: MODULE, host: s.host, namespace: 'flat', token: 'tok', transport: s.transport })).rejects.toThrow(RangeError);
  });
});
