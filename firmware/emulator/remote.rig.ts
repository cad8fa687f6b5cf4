/**
 * @module Test support for the RemoteFunction and NamespaceMinimum tests: manual timers, an in-memory MQTT
 * transport and a fake cloud. The fake cloud speaks the MQTT call protocol of cloud/src/service/calls.ts
 * (replies signed as downlink messages for the caller) and runs the same module bytes over its own namespace
 * state.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { signDownlink, type Json } from '@ferry/message';
import { downlinkKey } from '@ferry/message/node';
import { MemoryState } from '@ferry/wasm-host';
import { MIN_TEMPERATURE_WASM } from '../paths.ts';
import { DownlinkReceiver } from './downlink.ts';
import { LocalFunction } from './local-function.ts';
import { centiText } from './namespace-min.ts';
import type { CallTransport, Timers } from './remote.ts';

export const MODULE = new Uint8Array(readFileSync(MIN_TEMPERATURE_WASM));
export const HASH = createHash('sha256').update(MODULE).digest('hex');
export const START = Date.UTC(2026, 0, 1);
/** The key of the rig's board, th-01. */
export const DEVICE_KEY = new Uint8Array(32).map((_, i) => i + 1);
/** The receiver of a board holding `key` (the host's side of the downlink). */
export const receiverFor = (key: Uint8Array = DEVICE_KEY, id = 'th-01'): DownlinkReceiver => DownlinkReceiver.forDevice(key, id);

/** Timers that fire only when the test says time has passed. */
export class ManualTimers implements Timers {
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

/**
 * An MQTT client whose broker is a function: what is published on .../call is answered on .../res, signed as
 * the cloud signs it for the board holding `key` (epoch 1, sequence counting), unless `sign` is false.
 */
export class FakeTransport implements CallTransport {
  connected = true;
  private readonly downlink: ReturnType<typeof downlinkKey>;
  private readonly aud: string;
  private sq = 0;
  constructor(key: Uint8Array = DEVICE_KEY, aud = 'th-01') {
    this.downlink = downlinkKey(key, aud);
    this.aud = aud;
  }
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
  deliver(topic: string, body: unknown, sign = true): void {
    this.inject(topic, sign ? this.sign(body) : JSON.stringify(body));
  }
  /** `body` as the cloud's signed reply to this transport's board. */
  sign(body: unknown): string {
    const t = signDownlink({ aud: this.aud, ev: 'fn.res', ep: 1, sq: this.sq++, nowMs: Date.now(), ttlMs: 60_000, body: body as Json }, this.downlink);
    if (!t.ok) throw t.error;
    return t.value;
  }
  /** Delivers a payload as it is, as anyone on the broker could publish it. */
  inject(topic: string, payload: string | Buffer): void {
    for (const l of this.listeners.message) l(topic, Buffer.from(payload));
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
export class FakeCloud {
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

export const reading = (centi: number, atMs: number): Uint8Array => new TextEncoder().encode(`${centiText(centi)} ${atMs}`);
