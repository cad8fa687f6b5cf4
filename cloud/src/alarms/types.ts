/**
 * @module The alarm service's shapes (docs/operations.md "Alarms"): alarm rules (what the REST API creates and
 * compiles into a rule job of jobType `alarm`), alarms with their bounded history (one open alarm per owner,
 * type and source), and the store port both backends implement (SQLite embedded, Redis scale-out;
 * stores.case.ts is their shared contract).
 */
import type { AlarmCondition, AlarmTransition, MissingData, Severity } from '@ferry/rules';

/** docs/limits.md "Alarms". */
export const ALARM_LIMITS = {
  rulesPerOwner: 100,
  /** Open (active or acknowledged) alarms per owner; a raise beyond it is dropped and logged. */
  openPerOwner: 1000,
  /** Cleared alarms kept per owner; older ones are forgotten. */
  clearedPerOwner: 5000,
  /** History entries kept per alarm (the newest). */
  historyPerAlarm: 100,
  /** Alarms one listing answers (default 100). */
  listMax: 1000,
  nameChars: 64,
  /** Notification repeat interval, at least this long when set (ms). */
  minRepeatMs: 10_000,
} as const;

export type AlarmSource =
  | { readonly kind: 'telemetry'; readonly device: string; readonly event?: string | undefined }
  | { readonly kind: 'stream'; readonly so: string; readonly stream: string }
  | { readonly kind: 'metric'; readonly metric: string; readonly labels?: Readonly<Record<string, string>> | undefined };

export interface AlarmCommand {
  readonly device?: string | undefined;
  readonly name: string;
  readonly args?: Readonly<Record<string, unknown>> | undefined;
}

export interface AlarmRule {
  readonly id: string;
  readonly owner?: string | undefined;
  readonly name: string;
  readonly type: string;
  readonly severity: Severity;
  readonly source: AlarmSource;
  readonly value: string;
  readonly condition: AlarmCondition;
  readonly forMs?: number | undefined;
  readonly mOfN?: { readonly m: number; readonly n: number } | undefined;
  readonly missing?: MissingData | undefined;
  /** `cloud` or `gateway:<id>`. */
  readonly runtime: string;
  readonly repeatMs: number;
  readonly command?: AlarmCommand | undefined;
  /** The rule job that evaluates it (in the cloud's rules host or on the gateway). */
  readonly jobId: string;
  readonly createdMs: number;
  /**
   * A cloud rule's job state as last saved (its raised sources among it), restored when the rule is installed
   * again at start, so a restart neither raises again nor misses the clear. Kept, never answered by the API.
   */
  readonly snapshot?: unknown;
  /**
   * Transitions the job emitted, saved with the job state that emitted them before they are applied, and dropped
   * once applied: a kill between the two applies them at start (applying is idempotent), so the job's state and
   * the alarms never disagree. Kept, never answered by the API.
   */
  readonly unapplied?: readonly AlarmTransition[] | undefined;
}

export const ALARM_STATUSES = ['active', 'acknowledged', 'cleared'] as const;
export type AlarmStatus = (typeof ALARM_STATUSES)[number];

export interface HistoryEntry {
  readonly atMs: number;
  readonly what: 'raised' | 'repeated' | 'acknowledged' | 'cleared' | 'assigned' | 'severity';
  readonly by?: string | undefined;
  readonly detail?: string | undefined;
}

/** An alarm as the API answers it. */
export interface Alarm {
  readonly id: string;
  readonly owner?: string | undefined;
  readonly type: string;
  readonly source: string;
  readonly severity: Severity;
  readonly status: AlarmStatus;
  readonly acknowledged: boolean;
  readonly count: number;
  readonly assignee?: string | undefined;
  readonly rule?: string | undefined;
  readonly reason: string;
  readonly value?: unknown;
  readonly firstMs: number;
  readonly lastMs: number;
  readonly ackMs?: number | undefined;
  readonly clearedMs?: number | undefined;
  readonly history?: readonly HistoryEntry[] | undefined;
}

export const NOTE_KINDS = ['alarm.raised', 'alarm.repeated', 'alarm.cleared', 'alarm.acknowledged'] as const;
export type NoteKind = (typeof NOTE_KINDS)[number];

/** A notification decided but not yet handed to the notifier (the alarm's outbox). */
export interface Note {
  /** Per alarm, from 1: the notifier event's id is `alarm-<alarm id>-<seq>`, so handing it over twice is harmless. */
  readonly seq: number;
  readonly kind: NoteKind;
  readonly atMs: number;
}

/** An alarm as stored: the API's view plus what the service keeps beside it, written in one step. */
export interface StoredAlarm extends Alarm {
  readonly history: readonly HistoryEntry[];
  /** Grows by one on every save (compare-and-set). */
  readonly version: number;
  /** Notifications to hand to the notifier, oldest first. */
  readonly pending: readonly Note[];
  /** The last note's seq. */
  readonly noteSeq: number;
  /** When the last raised or repeated notification was decided (the repeat interval counts from it). */
  readonly notifiedMs?: number | undefined;
  /** The rule's command is still to enqueue (once per alarm, on raise). */
  readonly commandDue?: boolean | undefined;
}

export interface AlarmFilter {
  readonly status?: AlarmStatus | undefined;
  readonly severity?: Severity | undefined;
  readonly type?: string | undefined;
  readonly source?: string | undefined;
}

/** Scope of a listing: one owner's, the global ones (owner undefined), or every owner's ('all'). */
export type Scope = { readonly owner: string | undefined } | 'all';

export type SaveResult = 'ok' | 'conflict' | 'duplicate';

/**
 * Where the alarm service keeps rules and alarms. Every write is atomic on its own; `save` is a
 * compare-and-set on the alarm's version that also claims its (owner, type, source) while the alarm is open
 * and, when given, the transition key that made the change, so a transition applied twice changes nothing.
 */
export interface AlarmStore {
  putRule(r: AlarmRule): Promise<void> | void;
  /**
   * Stores a rule's new state only while the rule exists; false when it is gone. Scale-out: the alarm leader's
   * saves must not bring back a rule another worker deleted.
   */
  updateRule?(r: AlarmRule): Promise<boolean>;
  getRule(id: string): Promise<AlarmRule | undefined> | AlarmRule | undefined;
  /** Oldest first. */
  listRules(scope: Scope): Promise<readonly AlarmRule[]> | readonly AlarmRule[];
  deleteRule(id: string): Promise<void> | void;

  getAlarm(id: string): Promise<StoredAlarm | undefined> | StoredAlarm | undefined;
  /** The open (active or acknowledged) alarm of (owner, type, source). */
  openAlarm(owner: string | undefined, type: string, source: string): Promise<StoredAlarm | undefined> | StoredAlarm | undefined;
  /** Newest (firstMs) first. */
  listAlarms(scope: Scope, filter: AlarmFilter, limit: number): Promise<readonly StoredAlarm[]> | readonly StoredAlarm[];
  /** Open alarms of an owner. */
  openCount(owner: string | undefined): Promise<number> | number;
  /** Open alarms, and alarms with pending notes (every owner): what the service's timer looks at. */
  live(): Promise<readonly StoredAlarm[]> | readonly StoredAlarm[];
  /**
   * Stores `a` if the stored version is `a.version - 1` (0: no such alarm yet, and no other open alarm of its
   * (owner, type, source) when `a` is open); `transition`, when given, must not have been seen before, and is
   * remembered with the change. A cleared alarm past the owner's `clearedPerOwner` newest is forgotten.
   */
  save(a: StoredAlarm, transition?: string): Promise<SaveResult> | SaveResult;
}
