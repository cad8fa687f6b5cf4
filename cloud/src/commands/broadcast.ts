/**
 * @module Broadcasts (docs/actions.md "Broadcast"): one call makes one command per device of a target (a
 * list of devices, a namespace, a tag query, or all of the owner's devices), each with its own lifecycle;
 * the broadcast's status is a query over them (counts by state, and the devices in each).
 */
import { randomBytes } from 'node:crypto';
import { KID_PATTERN } from '@ferry/message';
import type { DeviceInfo } from '../devices/registry.ts';
import { mayActOn, type Principal } from '../identity/principal.ts';
import { CommandError } from './errors.ts';
import { MAX_BROADCAST_DEVICES, MAX_TARGET_LIST } from './limits.ts';
import { STATES, type CommandState, type Priority } from './model.ts';
import type { CommandService } from './service.ts';
import type { BroadcastRecord, CommandStore } from './store.ts';
import { checkTags, type DeviceTags } from './tags.ts';

export type Target =
  | { readonly devices: readonly string[] }
  | { readonly namespace: string }
  | { readonly tags: Readonly<Record<string, string>> }
  | { readonly all: true };

/** A target as the API takes it: exactly one of the four forms. */
export function parseTarget(v: unknown): Target {
  const bad = (why: string): never => {
    throw new CommandError('FERRY_CMD_BAD_REQUEST', `target: ${why}; one of {devices: [...]}, {namespace}, {tags: {...}}, {all: true}`);
  };
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return bad('not an object');
  const o = v as Record<string, unknown>;
  const keys = Object.keys(o);
  if (keys.length !== 1) return bad('exactly one field');
  if ('devices' in o) {
    const d = o['devices'];
    if (!Array.isArray(d) || d.length === 0 || !d.every((x) => typeof x === 'string' && KID_PATTERN.test(x)))
      return bad('devices must be a list of device ids');
    if (d.length > MAX_TARGET_LIST) throw new CommandError('FERRY_CMD_TOO_MANY_DEVICES', `a device list names at most ${MAX_TARGET_LIST} devices`);
    return { devices: [...new Set(d as string[])] };
  }
  if ('namespace' in o) return typeof o['namespace'] === 'string' && KID_PATTERN.test(o['namespace']) ? { namespace: o['namespace'] } : bad('bad namespace');
  if ('tags' in o) {
    const tags = checkTags(o['tags']);
    return Object.keys(tags).length > 0 ? { tags } : bad('tags must name at least one pair');
  }
  if ('all' in o && o['all'] === true) return { all: true };
  return bad(`unknown field ${keys[0]}`);
}

export interface BroadcastStatus {
  readonly id: string;
  readonly created_at: number;
  readonly target: unknown;
  readonly devices: number;
  readonly counts: Record<CommandState, number>;
  /** The devices in each state (states with none are left out). */
  readonly states: Partial<Record<CommandState, string[]>>;
}

export class Broadcasts {
  readonly #cmds: CommandService;
  readonly #store: CommandStore;
  readonly #devices: () => readonly DeviceInfo[];
  readonly #tags: DeviceTags;

  constructor(cmds: CommandService, store: CommandStore, devices: () => readonly DeviceInfo[], tags: DeviceTags) {
    this.#cmds = cmds;
    this.#store = store;
    this.#devices = devices;
    this.#tags = tags;
  }

  /** The devices `p` may command that the target names; a listed device it may not command is not found. */
  resolve(p: Principal, t: Target): string[] {
    const mine = this.#devices().filter((d) => mayActOn(p, d.owner, 'operator'));
    let ids: string[];
    if ('devices' in t) {
      const known = new Set(mine.map((d) => d.id));
      const missing = t.devices.find((d) => !known.has(d));
      if (missing !== undefined) throw new CommandError('FERRY_CMD_DEVICE_NOT_FOUND', `no device ${missing}`);
      ids = [...t.devices];
    } else {
      // Gateways take commands for their boards, not broadcasts meant for devices.
      const devices = mine.filter((d) => d.kind === 'device');
      if ('namespace' in t) ids = devices.filter((d) => d.namespace === t.namespace).map((d) => d.id);
      else if ('tags' in t) {
        const match = this.#tags.matching(t.tags);
        ids = devices.filter((d) => match.has(d.id)).map((d) => d.id);
      } else ids = devices.map((d) => d.id);
    }
    if (ids.length === 0) throw new CommandError('FERRY_CMD_NO_DEVICES', 'the target matches no device');
    if (ids.length > MAX_BROADCAST_DEVICES)
      throw new CommandError('FERRY_CMD_TOO_MANY_DEVICES', `the target matches ${ids.length} devices; at most ${MAX_BROADCAST_DEVICES}`);
    return ids;
  }

  /** Queues one command per device; a device whose queue is full gets none (listed in `refused`). */
  async send(
    p: Principal,
    target: Target,
    command: unknown,
    o: { ttlS?: number | undefined; priority?: Priority | undefined },
  ): Promise<{ id: string; devices: number; refused: { device: string; code: string }[] }> {
    const ids = this.resolve(p, target);
    const id = `b-${randomBytes(12).toString('base64url')}`;
    const commands: { device: string; id: string }[] = [];
    const refused: { device: string; code: string }[] = [];
    const one = async (device: string): Promise<void> => {
      try {
        const r = await this.#cmds.enqueue({ device, command, ttlS: o.ttlS, priority: o.priority, source: `broadcast:${id}`, broadcast: id });
        commands.push({ device, id: r.id });
      } catch (e) {
        if (!(e instanceof CommandError) || e.code === 'FERRY_CMD_BAD_REQUEST' || e.code === 'FERRY_CMD_TOO_LARGE') throw e;
        refused.push({ device, code: e.code });
      }
    };
    // A few at a time: Redis round trips overlap, and a bad command fails on the first device.
    await one(ids[0]!);
    for (let i = 1; i < ids.length; i += 32) await Promise.all(ids.slice(i, i + 32).map(one));
    await this.#store.putBroadcast({ id, owner: p.owner, createdAt: Date.now(), target, commands });
    return { id, devices: commands.length, refused };
  }

  /** The broadcast if `p` may see it (viewer of its owner). */
  async get(p: Principal, id: string): Promise<BroadcastRecord> {
    const b = await this.#store.broadcast(id);
    if (b === undefined || !mayActOn(p, b.owner, 'viewer')) throw new CommandError('FERRY_CMD_NOT_FOUND', `no broadcast ${id}`);
    return b;
  }

  async status(b: BroadcastRecord): Promise<BroadcastStatus> {
    const counts = Object.fromEntries(STATES.map((s) => [s, 0])) as Record<CommandState, number>;
    const states: Partial<Record<CommandState, string[]>> = {};
    for (let i = 0; i < b.commands.length; i += 64) {
      const recs = await Promise.all(b.commands.slice(i, i + 64).map((c) => this.#store.get(c.id)));
      recs.forEach((r, j) => {
        // Past the retention a command is forgotten; its broadcast is forgotten with it.
        const s: CommandState = r?.state ?? 'expired';
        counts[s]++;
        const list = states[s] ?? [];
        list.push(b.commands[i + j]!.device);
        states[s] = list;
      });
    }
    return { id: b.id, created_at: b.createdAt, target: b.target, devices: b.commands.length, counts, states };
  }

  /** Cancels every command of the broadcast that is still live; returns how many were. */
  async cancel(b: BroadcastRecord): Promise<number> {
    let n = 0;
    for (const c of b.commands) {
      const r = await this.#store.get(c.id);
      if (r === undefined || ['acked', 'rejected', 'expired', 'failed'].includes(r.state)) continue;
      await this.#cmds.cancel(r).then(
        () => n++,
        () => undefined, // finished meanwhile
      );
    }
    return n;
  }
}
