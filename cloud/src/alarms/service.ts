/**
 * @module The alarm service (docs/operations.md "Alarms"): takes alarm transitions (from the cloud's rule jobs,
 * from gateways' relayed rule outputs, from health events), applies them to the store through the lifecycle,
 * and hands each alarm's pending notes to the notifier and its rule's command to the command service. A note
 * becomes a notifier event whose id is `alarm-<alarm id>-<seq>` and the notifier keeps events and deliveries by
 * id, so a note handed over twice (a crash between handing over and recording it) is sent once; what was
 * handed over is recorded in the alarm, so a restart sends nothing again and loses nothing.
 */
import { randomBytes } from 'node:crypto';
import { SEVERITIES, type AlarmTransition } from '@ferry/rules';
import { checkEvent } from '../notify/event.ts';
import type { NotifyStore, Priority } from '../notify/types.ts';
import { AlarmError } from './errors.ts';
import { acknowledge, applyTransition, assign, close, delivered, repeatDue, transitionKey, view } from './lifecycle.ts';
import type { AlarmMetrics } from './metrics.ts';
import { ALARM_LIMITS, type Alarm, type AlarmRule, type AlarmStore, type Note, type SaveResult, type StoredAlarm } from './types.ts';

export interface AlarmServiceParts {
  readonly store: AlarmStore;
  readonly notifier: { readonly store: NotifyStore; kick(): void };
  /** Enqueues a command to a device (commands.service.enqueue). */
  readonly enqueue: (r: { device: string; command: unknown; source: string }) => Promise<unknown>;
  /** A rule by id (the rules part keeps them). */
  readonly rule: (id: string) => Promise<AlarmRule | undefined>;
  /** Told an alarm was cleared by hand (AlarmRules.clearedByHand resets its job's source). */
  readonly cleared?: ((a: StoredAlarm) => Promise<void>) | undefined;
  readonly metrics?: AlarmMetrics | undefined;
  readonly now?: () => number;
  readonly log: (m: string) => void;
}

const PRIORITY: Record<string, Priority> = { critical: 'high', major: 'high', minor: 'normal', warning: 'normal', indeterminate: 'low' };
/** Save attempts before a change that keeps meeting a newer version is given up (and logged). */
const ATTEMPTS = 8;
/** Transitions waiting to be applied, at most; beyond it they are dropped and logged (back-pressure on a flood). */
const MAX_QUEUED = 10_000;

export const newAlarmId = (): string => `al-${randomBytes(9).toString('base64url')}`;

/** Checks an alarm job's output: an AlarmTransition, or undefined. */
export function asTransition(v: unknown): AlarmTransition | undefined {
  if (typeof v !== 'object' || v === null) return undefined;
  const t = v as Record<string, unknown>;
  const s = (k: string, max: number): boolean => typeof t[k] === 'string' && (t[k] as string).length > 0 && (t[k] as string).length <= max;
  if ((t['kind'] !== 'raise' && t['kind'] !== 'clear') || !s('type', 64) || !s('source', 256) || !s('rule', 256)) return undefined;
  if (!(SEVERITIES as readonly unknown[]).includes(t['severity']) || typeof t['atMs'] !== 'number' || !Number.isFinite(t['atMs'])) return undefined;
  return { ...(t as unknown as AlarmTransition), reason: typeof t['reason'] === 'string' ? t['reason'].slice(0, 512) : '' };
}

export class AlarmService {
  readonly #p: AlarmServiceParts;
  readonly #listeners = new Set<(a: Alarm) => void>();
  #chain: Promise<void> = Promise.resolve();
  #queued = 0;

  constructor(p: AlarmServiceParts) {
    this.#p = p;
  }

  get store(): AlarmStore {
    return this.#p.store;
  }

  /** Told every change of an alarm (the SSE route filters by owner); returns the unsubscribe. */
  onChange(f: (a: Alarm) => void): () => void {
    this.#listeners.add(f);
    return () => this.#listeners.delete(f);
  }

  /**
   * Queues a transition for (owner, type, source), applied in arrival order; never throws. Resolves true once
   * it is decided (applied, a duplicate of one applied, or refused by a limit), false when it was not: the
   * queue was full or the store failed. A caller that keeps the transition tries again later (AlarmRules).
   */
  transition(owner: string | undefined, t: AlarmTransition): Promise<boolean> {
    if (this.#queued >= MAX_QUEUED) {
      this.#p.log(`alarms: ${MAX_QUEUED} transitions waiting; ${t.kind} ${t.type} ${t.source} not taken now`);
      return Promise.resolve(false);
    }
    this.#queued++;
    const done = this.#chain
      .then(() => this.#apply(owner, t))
      .then(
        () => true,
        (e: unknown) => {
          this.#p.log(`alarms: ${t.kind} ${t.type} ${t.source}: ${e instanceof Error ? e.message : String(e)}`);
          return false;
        },
      )
      .finally(() => {
        this.#queued--;
      });
    this.#chain = done.then(() => undefined);
    return done;
  }

  /** Waits for the transitions queued so far (tests, stop). */
  async settled(): Promise<void> {
    await this.#chain;
  }

  async #apply(owner: string | undefined, t: AlarmTransition): Promise<void> {
    const s = this.#p.store;
    const rule = await this.#p.rule(t.rule);
    const key = transitionKey(t);
    for (let i = 0; i < ATTEMPTS; i++) {
      const open = await s.openAlarm(owner, t.type, t.source);
      if (t.kind === 'raise' && open === undefined && (await s.openCount(owner)) >= ALARM_LIMITS.openPerOwner) {
        this.#p.log(`alarms: ${owner ?? 'global'} has ${ALARM_LIMITS.openPerOwner} open alarms; ${t.type} ${t.source} not raised`);
        return;
      }
      const next = applyTransition(open, t, { owner, newId: newAlarmId, command: rule?.command !== undefined });
      if (next === undefined) return;
      const r = await s.save(next, key);
      if (r === 'duplicate') {
        this.#p.metrics?.transitions.inc({ what: 'duplicate' });
        return;
      }
      if (r === 'ok') {
        this.#p.metrics?.transitions.inc({ what: next.history.at(-1)?.what ?? 'raised' });
        return this.#changed(next);
      }
    }
    throw new AlarmError('FERRY_ALARM_CONFLICT', `${t.kind} ${t.type} ${t.source}: the alarm kept changing`);
  }

  /** Saves `f(alarm)` with compare-and-set, again on a newer version; the alarm after, or NOT_FOUND / unchanged. */
  async change(id: string, f: (a: StoredAlarm) => StoredAlarm | undefined): Promise<StoredAlarm> {
    for (let i = 0; i < ATTEMPTS; i++) {
      const a = await this.#p.store.getAlarm(id);
      if (a === undefined) throw new AlarmError('FERRY_ALARM_NOT_FOUND', `no alarm ${id}`);
      const next = f(a);
      if (next === undefined) return a;
      const r: SaveResult = await this.#p.store.save(next);
      if (r === 'ok') {
        this.#p.metrics?.transitions.inc({ what: next.history.at(-1)?.what ?? 'changed' });
        await this.#changed(next);
        return (await this.#p.store.getAlarm(id)) ?? next;
      }
    }
    throw new AlarmError('FERRY_ALARM_CONFLICT', `alarm ${id} kept changing; retry`);
  }

  ack(id: string, by: string | undefined): Promise<StoredAlarm> {
    return this.change(id, (a) => acknowledge(a, this.#now(), by));
  }
  async clear(id: string, by: string | undefined): Promise<StoredAlarm> {
    const was = (await this.#p.store.getAlarm(id))?.status;
    const a = await this.change(id, (x) => close(x, this.#now(), by, by === undefined ? undefined : `cleared by ${by}`));
    // Its rule's job still holds the condition as raised: it must forget it, or the next breach raises nothing.
    if (was !== 'cleared' && a.status === 'cleared') await this.#p.cleared?.(a);
    return a;
  }
  assign(id: string, assignee: string | null, by: string | undefined): Promise<StoredAlarm> {
    return this.change(id, (a) => assign(a, assignee, this.#now(), by));
  }

  /** One pass over the live alarms: hands over what is pending, decides repeats; returns the open ones (the gauge). */
  async sweep(): Promise<readonly StoredAlarm[]> {
    const live = await this.#p.store.live();
    for (const a of live) {
      if (a.pending.length > 0 || a.commandDue === true) await this.#flush(a);
      else if (a.status === 'active') {
        const rule = a.rule === undefined ? undefined : await this.#p.rule(a.rule);
        if (rule !== undefined && rule.repeatMs > 0) {
          const now = this.#now();
          await this.change(a.id, (x) => repeatDue(x, rule.repeatMs, now)).catch((e: unknown) => this.#p.log(`alarms: repeat ${a.id}: ${String(e)}`));
        }
      }
    }
    return live.filter((a) => a.status !== 'cleared');
  }

  async #changed(a: StoredAlarm): Promise<void> {
    const v = view(a, false);
    for (const f of this.#listeners) {
      try {
        f(v);
      } catch (e) {
        this.#p.log(`alarms: listener: ${String(e)}`);
      }
    }
    if (a.pending.length > 0 || a.commandDue === true) await this.#flush(a);
  }

  /** Hands the alarm's pending notes to the notifier and its command to the command service, then records it. */
  async #flush(first: StoredAlarm): Promise<void> {
    let a: StoredAlarm | undefined = first;
    for (let i = 0; i < ATTEMPTS && a !== undefined && (a.pending.length > 0 || a.commandDue === true); i++) {
      const n = a.pending.length;
      for (const note of a.pending) await this.#hand(a, note);
      const commandDone = a.commandDue === true ? await this.#command(a) : false;
      if ((await this.#p.store.save(delivered(a, n, commandDone))) === 'ok') return;
      a = await this.#p.store.getAlarm(a.id);
    }
  }

  async #hand(a: StoredAlarm, note: Note): Promise<void> {
    const e = checkEvent(
      {
        ...(a.owner !== undefined && { owner: a.owner }),
        kind: note.kind,
        source: `${a.type}/${a.source}`,
        at: note.atMs,
        priority: PRIORITY[a.severity] ?? 'normal',
        data: { ...view(a, false), dedupKey: a.id },
      },
      `alarm-${a.id}-${note.seq}`,
    );
    await this.#p.notifier.store.accept(e); // idempotent by id: handed over twice, kept once
    this.#p.notifier.kick();
  }

  /** Enqueues the rule's command once per alarm; true when done (or impossible: logged), false to try again. */
  async #command(a: StoredAlarm): Promise<boolean> {
    const rule = a.rule === undefined ? undefined : await this.#p.rule(a.rule);
    const c = rule?.command;
    if (c === undefined) return true;
    const device = c.device ?? a.source;
    try {
      await this.#p.enqueue({ device, command: { name: c.name, ...(c.args !== undefined && { args: c.args }) }, source: `alarm:${a.id}` });
      return true;
    } catch (e) {
      const code = (e as { code?: unknown }).code;
      this.#p.log(`alarms: command ${c.name} to ${device} for ${a.id}: ${e instanceof Error ? e.message : String(e)}`);
      return code !== 'FERRY_CMD_QUEUE_FULL' && code !== 'FERRY_CMD_RATE_LIMITED'; // a full queue may drain: tried again
    }
  }

  #now(): number {
    return (this.#p.now ?? Date.now)();
  }
}
