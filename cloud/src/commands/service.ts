/**
 * @module Command delivery (docs/actions.md): takes commands from the API, broadcasts, rule outputs and any
 * other part (`enqueue`), keeps each in its device's queue in the CommandStore, sends the next one when the
 * device is online (signed `cmd` downlink on `<prefix>/dn/<device>/cmd`, QoS 1, exp = the command's
 * expiry), marks it delivered on the transport's acknowledgement, and final on the device's signed
 * `cmd.ack` uplink, which reaches it through ingest (verified, de-duplicated, in order). A timer sweeps the
 * queues that are due (expiry, visibility timeouts) and tells `notify` of commands that failed, expired or
 * were rejected.
 */
import { randomBytes } from 'node:crypto';
import { TokenBuckets } from '@ferry/base';
import { signDownlink, type HmacKey, type Json } from '@ferry/message';
import type { IngestEvent } from '../ingest/index.ts';
import { CommandError } from './errors.ts';
import { COMMAND_LIMITS, DEFAULT_TTL_S, MAX_COMMAND_BYTES, MAX_TTL_S, type CommandLimits } from './limits.ts';
import { answer, cancel, claim, delivered, enqueue, sweep, type CommandRecord, type Priority, type QueuePolicy, type Step } from './model.ts';
import type { CommandStore } from './store.ts';

/** What a notifier is told (the notifications part subscribes through CloudOptions.notify). */
export interface CommandEvent {
  readonly owner?: string;
  readonly kind: 'command.failed' | 'command.expired' | 'command.rejected';
  readonly source: string;
  readonly at: number;
  readonly priority?: Priority;
  readonly data: Record<string, unknown>;
}

export interface CommandPorts {
  readonly store: CommandStore;
  /** The device's downlink key; undefined: no such device (removed). */
  keyOf(device: string): HmacKey | undefined;
  /** Owner and namespace of a registered device. */
  placeOf(device: string): { readonly owner: string | undefined; readonly namespace: string } | undefined;
  /** This worker's downlink epoch (DownlinkSigner.epoch). */
  readonly epoch: number;
  /** A QoS 1 publish, not retained. */
  publish(topic: string, payload: string): void;
  /** Whether the device can take a command now (presence.ts). */
  online(device: string): boolean | Promise<boolean>;
  readonly prefix: string;
  readonly limits?: Partial<CommandLimits> | undefined;
  readonly notify?: ((e: CommandEvent) => void) | undefined;
  /**
   * The `d` of the device's `cmd.ack` messages ingest stored since `from` (ms), late ones included: an answer
   * whose release a crashed worker never handed on, or that arrived after the re-order timeout, is found
   * here before its command is sent again.
   */
  readonly answers?: ((device: string, from: number) => Promise<readonly unknown[]>) | undefined;
  readonly now?: () => number;
  log(msg: string): void;
}

/** One command to make: who it is for, what it says, how long it is valid, in which lane, who asked. */
export interface CommandRequest {
  readonly device: string;
  readonly command: unknown;
  readonly ttlS?: number | undefined;
  readonly priority?: Priority | undefined;
  readonly source: string;
  readonly broadcast?: string | undefined;
}

/** A command id: 1..64 of [A-Za-z0-9._-] (docs/actions.md "Commands"). */
export const newCommandId = (): string => `c-${randomBytes(12).toString('base64url')}`;
const ACK_REASON = /^[\x20-\x7e]{1,64}$/;

export class CommandService {
  readonly limits: CommandLimits;
  readonly #p: CommandPorts;
  readonly #now: () => number;
  readonly #policy: QueuePolicy;
  readonly #buckets = new TokenBuckets({ maxEntries: 100_000 });
  /** Tokens sent and not yet acknowledged by the transport, to mark their commands delivered. */
  readonly #sent = new Map<string, { device: string; id: string; ep: number; sq: number }>();
  /** The same by device: at most one command per device is in flight. */
  readonly #sentTo = new Map<string, string>();
  #timer: NodeJS.Timeout | undefined;
  #sweeping = false;
  #lastPrune = 0;

  constructor(p: CommandPorts) {
    this.#p = p;
    this.#now = p.now ?? Date.now;
    this.limits = { ...COMMAND_LIMITS, ...p.limits };
    const l = this.limits;
    this.#policy = { depth: l.depth, overflow: l.overflow, visibilityMs: l.visibilityMs, maxAttempts: l.maxAttempts };
  }

  /** Pays one unit of the owner's command rate (`cmd`) or broadcast rate (`broadcast`); false when used up. */
  pay(owner: string | undefined, what: 'cmd' | 'broadcast', n = 1): boolean {
    const l = this.limits;
    const key = `${what}:${owner ?? ''}`;
    for (let i = 0; i < n; i++) {
      const ok = what === 'cmd' ? this.#buckets.take(key, l.perSecond, l.burst) : this.#buckets.take(key, l.broadcastsPerMinute / 60, l.broadcastsPerMinute);
      if (!ok) return false;
    }
    return true;
  }

  /**
   * Queues a command for a device (the caller checked that its principal may command it) and sends it
   * at once if the device is online and has nothing in flight. The hook for every trigger: API, rule
   * outputs, composite-stream outputs, alarms (docs/actions.md "Triggers").
   */
  async enqueue(r: CommandRequest): Promise<CommandRecord> {
    const place = this.#p.placeOf(r.device);
    if (place === undefined) throw new CommandError('FERRY_CMD_DEVICE_NOT_FOUND', `no device ${r.device}`);
    const cmd = checkCommand(r.command);
    const ttlS = r.ttlS ?? DEFAULT_TTL_S;
    if (!Number.isInteger(ttlS) || ttlS < 1 || ttlS > MAX_TTL_S) throw new CommandError('FERRY_CMD_BAD_REQUEST', `ttl_s must be an integer 1..${MAX_TTL_S}`);
    const now = this.#now();
    const rec = {
      id: newCommandId(),
      device: r.device,
      owner: place.owner,
      cmd,
      priority: r.priority ?? 'normal',
      source: r.source,
      broadcast: r.broadcast,
      createdAt: now,
      expiresAt: now + ttlS * 1000,
    };
    // An online device's next command is claimed in the same store step as the new one is queued.
    const online = await this.#p.online(r.device);
    type Made = { queued: ReturnType<typeof enqueue>['result']; send: CommandRecord | undefined };
    const step = await this.#p.store.update(r.device, (q): Step<Made> => {
      const e = enqueue(q, rec, this.#policy);
      if (!online || 'refused' in e.result) return { ...e, result: { queued: e.result, send: undefined } };
      const c = claim(e.next, now, this.#p.epoch, this.#policy);
      return { next: c.next, finished: [...e.finished, ...c.finished], result: { queued: e.result, send: c.result } };
    });
    this.#finished(step.finished);
    const { queued, send } = step.result;
    if ('refused' in queued)
      throw new CommandError('FERRY_CMD_QUEUE_FULL', `the queue of ${r.device} holds ${this.limits.depth} commands (overflow: ${this.limits.overflow})`);
    if (send !== undefined) this.#send(send);
    return send?.id === queued.accepted.id ? send : queued.accepted;
  }

  async get(id: string): Promise<CommandRecord | undefined> {
    return this.#p.store.get(id);
  }

  /** The store's list index (CommandStore.recent and .broadcasts), for the list routes. */
  get lists(): Pick<CommandStore, 'recent' | 'broadcasts'> {
    return this.#p.store;
  }

  /** Cancels a live command; FERRY_CMD_FINISHED once it is final. */
  async cancel(rec: CommandRecord): Promise<CommandRecord> {
    const step = await this.#p.store.update(rec.device, (q) => cancel(q, rec.id, this.#now()));
    if (step.result === undefined) throw new CommandError('FERRY_CMD_FINISHED', `command ${rec.id} is ${(await this.get(rec.id))?.state ?? 'gone'}`);
    void this.pump(rec.device); // the next command may go now
    return step.result;
  }

  /** Sends the device's next command if it is online and has none in flight. */
  async pump(device: string): Promise<void> {
    try {
      if (!(await this.#p.online(device))) return;
      const step = await this.#p.store.update(device, (q) => claim(q, this.#now(), this.#p.epoch, this.#policy));
      this.#finished(step.finished);
      if (step.result !== undefined) this.#send(step.result);
    } catch (e) {
      this.#p.log(`commands: sending to ${device}: ${e instanceof Error ? e.message : String(e)}`);
    }
  }

  /** Signs a claimed command (`exp` = its expiry) and publishes it; the store has it `sent` already. */
  #send(c: CommandRecord): void {
    const device = c.device;
    const key = this.#p.keyOf(device);
    const now = this.#now();
    const t =
      key === undefined
        ? undefined
        : signDownlink(
            { aud: device, ev: 'cmd', ep: c.ep!, sq: c.sq!, nowMs: now, ttlMs: Math.max(1, c.expiresAt - now), body: { id: c.id, cmd: c.cmd } },
            key,
          );
    // Not sent (device removed, or unsignable): the visibility timeout gives it back, and its attempts run out.
    if (t === undefined || !t.ok) {
      this.#p.log(`commands: ${c.id} for ${device} not signed: ${t?.ok === false ? t.error.message : 'no key'}`);
      return;
    }
    if (this.#sent.size > 100_000) {
      this.#sent.clear(); // transport acknowledgements only upgrade a state: losing some is harmless
      this.#sentTo.clear();
    }
    const old = this.#sentTo.get(device);
    if (old !== undefined) this.#sent.delete(old);
    this.#sent.set(t.value, { device, id: c.id, ep: c.ep!, sq: c.sq! });
    this.#sentTo.set(device, t.value);
    this.#p.publish(`${this.#p.prefix}/dn/${device}/cmd`, t.value);
  }

  /** The transport acknowledged a `cmd` token to its receiver (embedded broker: the client's PUBACK). */
  async transportAck(token: string): Promise<void> {
    const s = this.#sent.get(token);
    if (s === undefined) return;
    this.#sent.delete(token);
    this.#sentTo.delete(s.device);
    await this.#p.store.update(s.device, (q) => delivered(q, s.id, s.ep, s.sq, this.#now())).catch((e: unknown) => this.#p.log(`commands: ${String(e)}`));
  }

  /** The token of the command in flight to `device` from this worker, if any (transport acknowledgements). */
  inFlightToken(device: string): string | undefined {
    return this.#sentTo.get(device);
  }

  /**
   * A released `cmd.ack` uplink: it answers the command of that id only if it came from the device the
   * command was for (another device's answer for the same id is ignored); then the next command may go.
   */
  async uplink(e: IngestEvent): Promise<void> {
    if (e.type !== 'message') return;
    const c = e.message.claims;
    const d = c['d'] as Record<string, Json> | undefined;
    if (c['ev'] === 'cmd.ack' && typeof d === 'object' && d !== null && typeof d['id'] === 'string') {
      const status = d['status'];
      const reason = typeof d['reason'] === 'string' && ACK_REASON.test(d['reason']) ? d['reason'] : undefined;
      if (status === 'rejected' && reason === 'replayed') {
        // The device took this very token before: its answer may be stored without having reached us.
        const c = await this.#p.store.get(d['id']).catch(() => undefined);
        if (c?.device === e.kid && (c.state === 'sent' || c.state === 'delivered')) await this.#recover(c).catch(() => undefined);
        return;
      }
      if (status === 'acked' || status === 'rejected') {
        const id = d['id'];
        try {
          // The answer and the claim of the next command in one store step, when the device is online.
          const online = await this.#p.online(e.kid);
          const now = this.#now();
          const step = await this.#p.store.update(e.kid, (q): Step<CommandRecord | undefined> => {
            const a = answer(q, id, status, reason, now);
            if (!online) return { ...a, result: undefined };
            const c = claim(a.next, now, this.#p.epoch, this.#policy);
            return { next: c.next, finished: [...a.finished, ...c.finished], result: c.result };
          });
          this.#finished(step.finished);
          if (step.result !== undefined) this.#send(step.result);
          return;
        } catch (x) {
          this.#p.log(`commands: answer of ${e.kid}: ${x instanceof Error ? x.message : String(x)}`);
        }
      }
    }
    await this.pump(e.kid);
  }

  /** Sweeps the due queues (expiry, visibility timeouts) and sends what may go. */
  async sweep(): Promise<void> {
    if (this.#sweeping) return;
    this.#sweeping = true;
    try {
      const now = this.#now();
      for (const device of await this.#p.store.due(now, 1000)) {
        const late = (await this.#p.store.queue(device)).live.find((r) => (r.state === 'sent' || r.state === 'delivered') && (r.visibleAt ?? 0) <= now);
        if (late !== undefined) await this.#recover(late);
        const step = await this.#p.store.update(device, (q) => sweep(q, now, this.#policy));
        this.#finished(step.finished);
        await this.pump(device);
      }
      if (now - this.#lastPrune > 3_600_000) {
        this.#lastPrune = now;
        await this.#p.store.prune(now);
      }
    } catch (e) {
      this.#p.log(`commands: sweep: ${e instanceof Error ? e.message : String(e)}`);
    } finally {
      this.#sweeping = false;
    }
  }

  /** Takes a stored answer of `c` that never reached the command store (see CommandPorts.answers). */
  async #recover(c: CommandRecord): Promise<void> {
    const found = (await this.#p.answers?.(c.device, c.createdAt - 1))?.find((d) => (d as { id?: unknown } | null)?.id === c.id) as
      | { status?: unknown; reason?: unknown }
      | undefined;
    if (found === undefined || (found.status !== 'acked' && found.status !== 'rejected') || found.reason === 'replayed') return;
    const status = found.status;
    const reason = typeof found.reason === 'string' && ACK_REASON.test(found.reason) ? found.reason : undefined;
    const step = await this.#p.store.update(c.device, (q) => answer(q, c.id, status, reason, this.#now()));
    this.#finished(step.finished);
  }

  log(msg: string): void {
    this.#p.log(msg);
  }

  start(): void {
    this.#timer = setInterval(() => void this.sweep(), this.limits.sweepMs);
    this.#timer.unref();
  }

  stop(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  #finished(rs: readonly CommandRecord[]): void {
    const notify = this.#p.notify;
    if (notify === undefined) return;
    for (const r of rs) {
      const kind =
        r.state === 'expired'
          ? 'command.expired'
          : r.state === 'rejected'
            ? 'command.rejected'
            : r.state === 'failed' && r.reason !== 'cancelled'
              ? 'command.failed'
              : undefined;
      if (kind === undefined) continue;
      try {
        notify({
          ...(r.owner !== undefined && { owner: r.owner }),
          kind,
          source: `device/${r.device}`,
          at: r.updatedAt,
          priority: r.priority,
          data: {
            id: r.id,
            device: r.device,
            command: r.cmd,
            attempts: r.attempts,
            ...(r.reason !== undefined && { reason: r.reason }),
            ...(r.broadcast !== undefined && { broadcast: r.broadcast }),
          },
        });
      } catch (e) {
        this.#p.log(`commands: notify: ${e instanceof Error ? e.message : String(e)}`);
      }
    }
  }
}

/** A command body: a JSON object of at most MAX_COMMAND_BYTES. */
export function checkCommand(v: unknown): { readonly [k: string]: Json } {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new CommandError('FERRY_CMD_BAD_REQUEST', 'command must be a JSON object');
  const size = Buffer.byteLength(JSON.stringify(v));
  if (size > MAX_COMMAND_BYTES) throw new CommandError('FERRY_CMD_TOO_LARGE', `command is ${size} bytes of JSON; at most ${MAX_COMMAND_BYTES}`);
  return v as { readonly [k: string]: Json };
}
