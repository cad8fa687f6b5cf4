/**
 * @module Calls one function module by hash in the cloud when online, and runs it on the board when not
 * (docs/functions.md). Online: the call goes out on `<prefix>/fn/<replyTo>/call` with a fresh
 * id and the answer is awaited on `<prefix>/fn/<replyTo>/res` (cloud/src/service/calls.ts) for at
 * most `timeoutMs`; FERRY_FN_MODULE_NEEDED makes the board upload the module's bytes (HTTP, its token as
 * Bearer) and retry once. Not connected, no answer in time, a lost connection or a failed upload: the
 * same export runs locally with the same args over the board's state and clock (local-function.ts).
 * A refusal that is the caller's to fix (token, namespace, white-list, args, the module itself) is
 * returned as a typed error, never masked by a local answer: a board that silently ran locally forever
 * would hide a misconfiguration. Only the cloud being unable to serve the call now (busy, rate limited,
 * out of time, trapped) falls back. A reply that comes after its call timed out is dropped.
 *
 * Replies are downlink messages signed for this board (docs/message-format.md "Downlink"): the host verifies
 * each with the board's downlink key (downlink.ts) before reading it, so a reply published by anyone else on
 * the broker, or replayed, is ignored and counted (`stats.forgedDownlink`), never taken as the cloud's answer.
 */
import { createHash, randomBytes } from 'node:crypto';
import { pinnedFetch } from '@ferry/mqtt-rest';
import type { CompiledModule } from '@ferry/wasm-host';
import type { DownlinkReceiver } from './downlink.ts';
import { FunctionCallError, LocalFunction, type ArgValue, type FunctionOutput, type LocalHost } from './local-function.ts';

/** The part of an mqtt.js MqttClient the caller uses (an MqttClient fits; tests pass a fake). */
export interface CallTransport {
  readonly connected: boolean;
  publish(topic: string, message: string, opts: { qos: 0 }, callback: (error?: Error) => void): unknown;
  subscribe(topic: string, opts: { qos: 0 }, callback: (error: Error | null, granted?: readonly { qos: number }[]) => void): unknown;
  on(event: 'message', listener: (topic: string, payload: Buffer) => void): unknown;
  on(event: 'connect' | 'close', listener: () => void): unknown;
  removeListener(event: 'message', listener: (topic: string, payload: Buffer) => void): unknown;
  removeListener(event: 'connect' | 'close', listener: () => void): unknown;
}

/** Timer port: the real timers by default, a manual one in unit tests. */
export interface Timers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}
const realTimers: Timers = {
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
};

/**
 * Cloud refusals answered by running locally: the cloud cannot serve the call now, and the board still
 * has to decide. Every other code (FERRY_FN_BAD_TOKEN, _TOKEN_EXPIRED, _TOKEN_REVOKED,
 * _FORBIDDEN_NAMESPACE, _NOT_WHITELISTED, _BAD_REQUEST, _BAD_ARGS, _NO_SUCH_EXPORT, _MODULE_INVALID,
 * _MODULE_TOO_LARGE, _MEMORY_EXCEEDED, a second _MODULE_NEEDED, unknown codes) is returned as an error.
 */
export const FALLBACK_CODES: ReadonlySet<string> = new Set([
  'FERRY_FN_BUSY',
  'FERRY_FN_RATE_LIMITED',
  'FERRY_FN_TIMEOUT',
  'FERRY_FN_TRAP',
  'FERRY_FN_UNAVAILABLE',
]);

/** Why a call was answered locally: not connected, no reply in time, the upload did not get through, or a FALLBACK_CODES code. */
export type FallbackReason = 'offline' | 'timeout' | 'upload-failed' | (string & {});

export type RemoteResult =
  | ({ readonly ok: true; readonly where: 'cloud' | 'local'; readonly reason?: FallbackReason } & FunctionOutput)
  | { readonly ok: false; readonly error: FunctionCallError };

export interface RemoteFunctionOptions {
  /** The module's bytes: run locally, uploaded when the cloud asks, and named by their SHA-256. */
  readonly module: Uint8Array;
  /** Where a local run reads state and time (an EmulatedBoard fits). */
  readonly host: LocalHost;
  readonly namespace: string;
  /** A public token listing the namespace (and, if it lists functions, this hash), or the owner's private token. */
  readonly token: string;
  /** The MQTT connection to the cloud; without one every call runs locally ('offline'). */
  readonly transport?: CallTransport;
  /**
   * Verifies the cloud's signed replies (default the host's own, when it has one, as an EmulatedBoard does).
   * Required with a transport: an unverified reply could come from anyone on the broker.
   */
  readonly downlink?: DownlinkReceiver;
  /** The cloud's HTTP base URL, for uploading the module when the cloud asks for it. */
  readonly httpUrl?: string;
  readonly prefix?: string;
  /** The `<reply-to>` topic level (default the host's device id). */
  readonly replyTo?: string;
  /** How long to wait for the cloud's answer before running locally (default 500 ms). */
  readonly timeoutMs?: number;
  /** How long an upload may take (default 5000 ms: the cloud validates and compiles the module). */
  readonly uploadTimeoutMs?: number;
  readonly fetch?: typeof globalThis.fetch;
  /** For an https:// httpUrl: the CA (PEM) the cloud's certificate must chain to, the only one trusted (unless `fetch` is given). */
  readonly ca?: string;
  readonly timers?: Timers;
}

type Reply = { readonly ok: true; readonly output: FunctionOutput } | { readonly ok: false; readonly error: FunctionCallError };
type Asked = Reply | 'offline' | 'timeout';

interface WireReply {
  id?: unknown;
  ok?: unknown;
  value?: unknown;
  emits?: unknown;
  logs?: unknown;
  error?: { code?: unknown; num?: unknown; message?: unknown; details?: unknown };
}

/** The typed error in a cloud error body ({code, num, message, details}); malformed bodies are FERRY_FN_BAD_REQUEST. */
function errorOf(e: WireReply['error'], where: 'cloud' | 'upload'): FunctionCallError {
  const code = typeof e?.code === 'string' ? e.code : 'FERRY_FN_BAD_REQUEST';
  return new FunctionCallError(code, typeof e?.message === 'string' ? e.message : 'the cloud sent an error without a message', where, {
    num: typeof e?.num === 'number' ? e.num : undefined,
    details: Array.isArray(e?.details) ? e.details.filter((d): d is string => typeof d === 'string') : [],
  });
}

export class RemoteFunction {
  /** SHA-256 of the module, lower-case hex: the name the cloud knows it by. */
  readonly hash: string;
  readonly namespace: string;
  /**
   * Counters: answers from the cloud and from the board, uploads, replies that came too late, and replies
   * refused (unsigned, forged, for another board, expired or replayed).
   */
  readonly stats = { cloud: 0, local: 0, uploads: 0, lateReplies: 0, forgedDownlink: 0 };

  private readonly opts: RemoteFunctionOptions;
  private readonly local: LocalFunction;
  private readonly timers: Timers;
  private readonly downlink: DownlinkReceiver | undefined;
  private readonly callTopic: string;
  private readonly resTopic: string;
  /** Ids carry a random per-caller prefix: several callers may share a reply topic. */
  private readonly idPrefix = `${randomBytes(6).toString('hex')}.`;
  private seq = 0;
  private readonly waiting = new Map<string, (a: Asked) => void>();
  /** SUBACK of the reply topic on the current connection (reset on every connect). */
  private subscription: Promise<boolean> | undefined;
  private readonly onMessage = (topic: string, payload: Buffer): void => this.receive(topic, payload);
  private readonly onConnect = (): void => {
    this.subscription = undefined;
  };
  private readonly onClose = (): void => {
    for (const settle of [...this.waiting.values()]) settle('offline');
  };

  private constructor(opts: RemoteFunctionOptions, local: LocalFunction) {
    this.opts = opts;
    this.local = local;
    this.hash = createHash('sha256').update(opts.module).digest('hex');
    this.namespace = opts.namespace;
    this.timers = opts.timers ?? realTimers;
    this.downlink = opts.downlink ?? (opts.host as { readonly downlink?: DownlinkReceiver }).downlink;
    if (opts.transport !== undefined && this.downlink === undefined)
      throw new RangeError("a RemoteFunction with a transport needs the board's downlink receiver to verify the cloud's replies");
    const prefix = opts.prefix ?? 'ferry';
    const replyTo = opts.replyTo ?? opts.host.deviceId;
    if (!/^[^/+#\s]+$/.test(replyTo)) throw new RangeError(`replyTo must be one MQTT topic level without wildcards: ${replyTo}`);
    this.callTopic = `${prefix}/fn/${replyTo}/call`;
    this.resTopic = `${prefix}/fn/${replyTo}/res`;
    const t = opts.transport;
    t?.on('message', this.onMessage);
    t?.on('connect', this.onConnect);
    t?.on('close', this.onClose);
  }

  /** Compiles the module for local runs; an invalid module is a FunctionCallError (FERRY_FN_MODULE_INVALID). */
  static async create(opts: RemoteFunctionOptions & { readonly compiled?: CompiledModule }): Promise<RemoteFunction> {
    const local = await LocalFunction.create(opts.compiled ?? opts.module, opts.host);
    if (!local.ok) throw local.error;
    return new RemoteFunction(opts, local.value);
  }

  /** Calls still waiting for the cloud's reply. */
  get pending(): number {
    return this.waiting.size;
  }

  /**
   * Calls `exportName(args)`: in the cloud when it answers in time, else on the board. Never rejects:
   * a refusal that is the caller's to fix, or a failed local run, is `{ ok: false, error }`.
   */
  async call(exportName: string, args: readonly ArgValue[], o: { readonly timeoutMs?: number } = {}): Promise<RemoteResult> {
    const timeoutMs = o.timeoutMs ?? this.opts.timeoutMs ?? 500;
    let asked = await this.ask(exportName, args, timeoutMs);
    if (typeof asked === 'object' && !asked.ok && asked.error.code === 'FERRY_FN_MODULE_NEEDED') {
      const up = await this.upload();
      if (up !== 'uploaded') {
        if (typeof up !== 'string') return { ok: false, error: up };
        return this.runLocally(exportName, args, up);
      }
      asked = await this.ask(exportName, args, timeoutMs);
    }
    if (asked === 'offline' || asked === 'timeout') return this.runLocally(exportName, args, asked);
    if (!asked.ok) return FALLBACK_CODES.has(asked.error.code) ? this.runLocally(exportName, args, asked.error.code) : { ok: false, error: asked.error };
    this.stats.cloud++;
    return { ok: true, where: 'cloud', ...asked.output };
  }

  /** Stops listening; calls in flight are answered locally ('offline'). The transport stays open: it is not ours. */
  close(): void {
    this.onClose();
    const t = this.opts.transport;
    t?.removeListener('message', this.onMessage);
    t?.removeListener('connect', this.onConnect);
    t?.removeListener('close', this.onClose);
  }

  private async runLocally(exportName: string, args: readonly ArgValue[], reason: FallbackReason): Promise<RemoteResult> {
    const r = await this.local.run(exportName, args);
    if (!r.ok) return r;
    this.stats.local++;
    return { ok: true, where: 'local', reason, ...r.value };
  }

  /** One request/reply exchange; every path settles once and removes its waiting entry. */
  private ask(exportName: string, args: readonly ArgValue[], timeoutMs: number): Promise<Asked> {
    const t = this.opts.transport;
    if (t === undefined || !t.connected) return Promise.resolve('offline');
    const id = `${this.idPrefix}${++this.seq}`;
    const body = JSON.stringify({
      id,
      hash: this.hash,
      export: exportName,
      namespace: this.opts.namespace,
      token: this.opts.token,
      args: args.map((a) => (typeof a === 'bigint' ? a.toString() : a)), // i64 as a decimal string (JSON has no 64-bit integers)
    });
    return new Promise<Asked>((resolve) => {
      let done = false;
      const settle = (a: Asked): void => {
        if (done) return;
        done = true;
        this.timers.clearTimeout(timer);
        this.waiting.delete(id);
        resolve(a);
      };
      const timer = this.timers.setTimeout(() => settle('timeout'), timeoutMs);
      this.waiting.set(id, settle);
      void this.subscribed(t).then((ok) => {
        if (done) return;
        if (!ok) {
          settle('offline');
          return;
        }
        // QoS 0: a call is worth answering only within timeoutMs; a QoS 1 call queued across a reconnect
        // would run in the cloud long after the board decided without it.
        t.publish(this.callTopic, body, { qos: 0 }, (err) => {
          if (err !== undefined && err !== null) settle('offline');
        });
      });
    });
  }

  /** Subscribes to the reply topic once per connection, and waits for the broker's SUBACK. */
  private subscribed(t: CallTransport): Promise<boolean> {
    const s =
      this.subscription ??
      new Promise<boolean>((resolve) => {
        t.subscribe(this.resTopic, { qos: 0 }, (err, granted) => resolve((err === null || err === undefined) && granted?.[0]?.qos !== 128));
      });
    this.subscription = s;
    void s.then((ok) => {
      if (!ok && this.subscription === s) this.subscription = undefined;
    });
    return s;
  }

  private receive(topic: string, payload: Buffer): void {
    if (topic !== this.resTopic || this.downlink === undefined) return;
    const d = this.downlink.verify(payload, 'fn.res');
    if (d === undefined) {
      this.stats.forgedDownlink++;
      return;
    }
    const r = d.body as WireReply | null;
    if (typeof r !== 'object' || r === null || typeof r.id !== 'string' || !r.id.startsWith(this.idPrefix)) return; // another caller's on this topic
    // A reply settles the one pending call whose random id it names, once: a replayed reply finds nothing
    // waiting. So replies need no (epoch, seq) window, and several cloud workers, each with its own epoch,
    // can answer the same board (the window still guards state snapshots and commands).
    const settle = this.waiting.get(r.id);
    if (settle === undefined) {
      this.stats.lateReplies++;
      return;
    } // its call timed out and was answered locally
    if (r.ok === true) {
      const value = typeof r.value === 'number' || typeof r.value === 'string' ? r.value : null;
      const emits = Array.isArray(r.emits) ? r.emits.filter((e): e is string => typeof e === 'string') : [];
      const logs = Array.isArray(r.logs) ? (r.logs as FunctionOutput['logs']) : [];
      settle({ ok: true, output: { value, emits, logs } });
    } else {
      settle({ ok: false, error: errorOf(r.error, 'cloud') });
    }
  }

  /** POST /api/functions/modules. 'uploaded', a fallback reason, or the cloud's typed refusal. */
  private async upload(): Promise<'uploaded' | FallbackReason | FunctionCallError> {
    const url = this.opts.httpUrl;
    if (url === undefined)
      return new FunctionCallError('FERRY_FN_MODULE_NEEDED', `the cloud has no module ${this.hash} and no httpUrl is configured to upload it`, 'upload');
    const doFetch = this.opts.fetch ?? (this.opts.ca !== undefined ? pinnedFetch(this.opts.ca) : globalThis.fetch);
    let res: Response;
    let body: WireReply['error'] & { hash?: unknown };
    try {
      res = await doFetch(`${url}/api/functions/modules?namespace=${encodeURIComponent(this.opts.namespace)}`, {
        method: 'POST',
        headers: { 'content-type': 'application/wasm', authorization: `Bearer ${this.opts.token}` },
        body: new Uint8Array(this.opts.module),
        signal: AbortSignal.timeout(this.opts.uploadTimeoutMs ?? 5000),
      });
      body = (await res.json().catch(() => ({}))) as typeof body;
    } catch {
      return 'upload-failed'; // connection refused, reset, or the upload timed out
    }
    if (res.ok) {
      if (body.hash !== this.hash)
        return new FunctionCallError('FERRY_FN_BAD_REQUEST', `the cloud stored the module as ${String(body.hash)}, not ${this.hash}`, 'upload');
      this.stats.uploads++;
      return 'uploaded';
    }
    if (typeof body.code !== 'string') return 'upload-failed'; // not the function service answering (a proxy, a 5xx)
    return FALLBACK_CODES.has(body.code) ? body.code : errorOf(body, 'upload');
  }
}
