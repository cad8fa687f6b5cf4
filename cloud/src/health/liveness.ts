/**
 * @module Device liveness (docs/operations.md, "Device liveness"): last seen, online or offline, sequence gaps
 * and bad signatures per device. A device or gateway with its own MQTT connection is online while it is
 * connected (a broken connection is seen by the broker, which also publishes the client's last will); a
 * board or sensor that reaches the cloud through others is offline once silent for `silenceFactor` times its
 * usual interval, the median of its last gaps between messages, learnt from its traffic. A gateway's sensors
 * are tracked as `<gateway>/<sensor>` (their readings are signed by the gateway). Bounded: at most
 * `maxDevices` entries; only registered devices (and their gateway's sensors) are tracked.
 */
import type { Clock } from '@ferry/base';
import type { Notify } from './events.ts';

export interface DeviceHealth {
  readonly id: string;
  readonly owner?: string;
  readonly online: boolean;
  /** Wall-clock ms of the last verified message; absent if none since the cloud started. */
  readonly lastSeen?: number;
  /** True while its own MQTT connection is up; absent for devices never connected themselves. */
  readonly connected?: boolean;
  /** The usual interval between its messages, once learnt (ms). */
  readonly intervalMs?: number;
  readonly messages: number;
  /** Sequence numbers never received (released as gaps by ingest). */
  readonly gaps: number;
  /** Messages naming it whose signature did not verify. */
  readonly badSignatures: number;
}

export interface LivenessOptions {
  readonly clock: Pick<Clock, 'now'>;
  /** Registered devices only: entries are made for these (and `<id>/<sensor>` of these). */
  readonly known: (id: string) => boolean;
  readonly ownerOf: (id: string) => string | undefined;
  /** Offline after this many usual intervals of silence (default 3). */
  readonly silenceFactor?: number;
  /** The shortest interval counted, so a burst does not make a device "late" at once (default 1000 ms). */
  readonly minIntervalMs?: number;
  /** Entries at most (default 100 000); past it new ids are not tracked (counted in `untracked`). */
  readonly maxDevices?: number;
  readonly notify?: Notify;
}

/** Gaps between messages kept per device to learn its interval (the median of these). */
const SAMPLES = 9;
/** Intervals needed before silence counts. */
const LEARNT_AFTER = 3;

interface Entry {
  lastSeen?: number;
  connected?: boolean;
  online: boolean;
  /** Ever online: the first sighting is not a "came back" transition. */
  seenOnline: boolean;
  deltas: number[];
  messages: number;
  gaps: number;
  badSignatures: number;
}

export class DeviceLiveness {
  readonly #o: LivenessOptions;
  readonly #devices = new Map<string, Entry>();
  #untracked = 0;

  constructor(o: LivenessOptions) {
    this.#o = o;
  }

  /** A verified message of `id` (or `id/sensor`) at wall-clock `at`. */
  seen(id: string, at = this.#o.clock.now()): void {
    const e = this.#entry(id);
    if (e === undefined) return;
    if (e.lastSeen !== undefined && at > e.lastSeen) {
      e.deltas.push(at - e.lastSeen);
      if (e.deltas.length > SAMPLES) e.deltas.shift();
    }
    e.lastSeen = Math.max(at, e.lastSeen ?? at);
    e.messages++;
    this.#set(id, e, true, 'message');
  }

  /** Its own MQTT connection came up. */
  connected(id: string): void {
    const e = this.#entry(id);
    if (e === undefined) return;
    e.connected = true;
    this.#set(id, e, true, 'connected');
  }

  /** Its MQTT connection ended (`graceful` false: dropped, the broker published its last will). */
  disconnected(id: string, graceful: boolean): void {
    const e = this.#devices.get(id);
    if (e === undefined) return;
    e.connected = false;
    this.#set(id, e, false, graceful ? 'disconnected' : 'connection lost');
  }

  /** `count` sequence numbers of `id` released as a gap by ingest. */
  gap(id: string, count: number): void {
    const e = this.#entry(id);
    if (e !== undefined) e.gaps += count;
  }

  badSignature(id: string): void {
    const e = this.#entry(id);
    if (e !== undefined) e.badSignatures++;
  }

  /** Marks offline every device silent for too long, and drops devices no longer registered. */
  sweep(now = this.#o.clock.now()): void {
    for (const [id, e] of this.#devices) {
      if (!this.#o.known(rootOf(id))) {
        this.#devices.delete(id);
        continue;
      }
      const usual = this.#interval(e);
      if (!e.online || e.connected === true || usual === undefined || e.lastSeen === undefined) continue;
      const silent = now - e.lastSeen;
      if (silent > (this.#o.silenceFactor ?? 3) * usual) this.#set(id, e, false, 'silent', { silentMs: silent, intervalMs: usual });
    }
  }

  /** Every tracked device (`owner` given: only that owner's), sorted by id. */
  list(owner?: string): DeviceHealth[] {
    const out: DeviceHealth[] = [];
    for (const [id, e] of this.#devices) {
      const o = this.#o.ownerOf(rootOf(id));
      if (owner !== undefined && o !== owner) continue;
      const interval = this.#interval(e);
      out.push({
        id,
        ...(o !== undefined && { owner: o }),
        online: e.online,
        ...(e.lastSeen !== undefined && { lastSeen: e.lastSeen }),
        ...(e.connected !== undefined && { connected: e.connected }),
        ...(interval !== undefined && { intervalMs: interval }),
        messages: e.messages,
        gaps: e.gaps,
        badSignatures: e.badSignatures,
      });
    }
    return out.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  counts(): { online: number; offline: number; untracked: number } {
    let online = 0;
    for (const e of this.#devices.values()) if (e.online) online++;
    return { online, offline: this.#devices.size - online, untracked: this.#untracked };
  }

  #interval(e: Entry): number | undefined {
    if (e.deltas.length < LEARNT_AFTER) return undefined;
    const sorted = [...e.deltas].sort((a, b) => a - b);
    return Math.max(sorted[Math.floor(sorted.length / 2)]!, this.#o.minIntervalMs ?? 1000);
  }

  #entry(id: string): Entry | undefined {
    const got = this.#devices.get(id);
    if (got !== undefined) return got;
    if (!this.#o.known(rootOf(id))) return undefined;
    if (this.#devices.size >= (this.#o.maxDevices ?? 100_000)) {
      this.#untracked++;
      return undefined;
    }
    const e: Entry = { online: false, seenOnline: false, deltas: [], messages: 0, gaps: 0, badSignatures: 0 };
    this.#devices.set(id, e);
    return e;
  }

  #set(id: string, e: Entry, online: boolean, why: string, extra: Record<string, unknown> = {}): void {
    if (e.online === online) return;
    e.online = online;
    const first = online && !e.seenOnline;
    if (online) e.seenOnline = true;
    if (first) return; // first sighting since start: nothing came back
    const owner = this.#o.ownerOf(rootOf(id));
    this.#o.notify?.({
      ...(owner !== undefined && { owner }),
      kind: online ? 'device.online' : 'device.offline',
      source: id,
      at: this.#o.clock.now(),
      priority: online ? 'low' : 'normal',
      data: { why, ...(e.lastSeen !== undefined && { lastSeen: e.lastSeen }), ...extra },
    });
  }
}

/** The registered device an id belongs to: a gateway's sensor `<gateway>/<sensor>` belongs to the gateway. */
export const rootOf = (id: string): string => {
  const i = id.indexOf('/');
  return i < 0 ? id : id.slice(0, i);
};
