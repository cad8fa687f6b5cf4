/**
 * @module What the composite-stream host persists besides values (docs/composite-streams.md "Hosting"):
 * each service object's record (id, owner, creation time, revision, document as given) and the grants its
 * owner made, in cloud.db (embedded) or Redis (scale-out). The engine's values live in its ComposeStore.
 */
import type { Grant, Principal } from '@ferry/compose';
import type { HostedOutput } from './hosting.ts';

type MaybePromise<T> = T | Promise<T>;

export interface SoRecord {
  readonly id: string;
  readonly owner: string;
  /** When it was created (ms since the epoch). */
  readonly created: number;
  /** Grows with every replacement (PUT); a scale-out worker re-installs an object whose revision changed. */
  readonly rev: number;
  readonly document: Readonly<Record<string, unknown>>;
}

export interface SoRecordStore {
  put(rec: SoRecord): MaybePromise<void>;
  get(id: string): MaybePromise<SoRecord | undefined>;
  /** Forgets the object and its grants. */
  delete(id: string): MaybePromise<void>;
  /** Every record, oldest first (then by id). */
  list(): MaybePromise<readonly SoRecord[]>;
  /** How many objects the owner has. */
  count(owner: string): MaybePromise<number>;
  grants(so: string): MaybePromise<readonly Grant[]>;
  /** Adds a grant; false when the same one is there. */
  addGrant(so: string, grant: Grant): MaybePromise<boolean>;
  /** Removes a grant; false when it was not there. */
  removeGrant(so: string, grant: Grant): MaybePromise<boolean>;
  /**
   * Scale-out: the objects changed (made, replaced, deleted) after change number `seen`, and the number of
   * the last change; a worker brings its copies of them up to date.
   */
  changedSince?(seen: number): Promise<{ readonly seq: number; readonly ids: readonly string[] }>;
}

/** What one worker tells the others: a value it stored, or that who may read an object changed. */
export type RelayMessage = { readonly output: HostedOutput } | { readonly access: string };

/** Scale-out: carries stored values and access changes between workers (event streams open on any worker). */
export interface OutputRelay {
  /** Starts receiving every worker's messages, this one's included. */
  start(receive: (m: RelayMessage) => void): Promise<void>;
  publishOutput(o: HostedOutput): Promise<void>;
  publishAccess(so: string): Promise<void>;
  close(): Promise<void>;
}

/** The stored form of a grant: one string, so a set or a primary key holds it once. */
export const grantKey = (g: Grant): string => JSON.stringify([g.stream, 'owner' in g.to ? 'owner' : 'token', 'owner' in g.to ? g.to.owner : g.to.token]);

export function grantOf(key: string): Grant {
  const [stream, kind, who] = JSON.parse(key) as [string, 'owner' | 'token', string];
  const to: Principal = kind === 'owner' ? { owner: who } : { token: who };
  return { stream, to };
}

const NAME = /^([A-Za-z0-9_$][A-Za-z0-9_$-]*|\*)$/;
const WHO = /^[\x21-\x7e]{1,128}$/;

/** A grant from a request body, `{"stream": <name or *>, "to": {"owner": id} | {"token": id}}`, or what is wrong with it. */
export function parseGrant(raw: unknown): Grant | string {
  const usage = 'a grant is {"stream": <stream name or *>, "to": {"owner": <owner id>} or {"token": <public token id>}}';
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return usage;
  const { stream, to, ...rest } = raw as Record<string, unknown>;
  if (Object.keys(rest).length > 0 || typeof stream !== 'string' || !NAME.test(stream) || stream.length > 128) return usage;
  if (typeof to !== 'object' || to === null || Array.isArray(to)) return usage;
  const t = to as Record<string, unknown>;
  const keys = Object.keys(t);
  if (keys.length !== 1) return usage;
  if (typeof t['owner'] === 'string' && WHO.test(t['owner'])) return { stream, to: { owner: t['owner'] } };
  if (typeof t['token'] === 'string' && WHO.test(t['token'])) return { stream, to: { token: t['token'] } };
  return usage;
}

/** Records and grants in memory (unit tests, and the shape the persistent stores follow). */
export class MemorySoRecords implements SoRecordStore {
  readonly #recs = new Map<string, SoRecord>();
  readonly #grants = new Map<string, Set<string>>();

  put(rec: SoRecord): void {
    this.#recs.set(rec.id, rec);
  }
  get(id: string): SoRecord | undefined {
    return this.#recs.get(id);
  }
  delete(id: string): void {
    this.#recs.delete(id);
    this.#grants.delete(id);
  }
  list(): readonly SoRecord[] {
    return [...this.#recs.values()].sort((a, b) => a.created - b.created || a.id.localeCompare(b.id));
  }
  count(owner: string): number {
    let n = 0;
    for (const r of this.#recs.values()) if (r.owner === owner) n++;
    return n;
  }
  grants(so: string): readonly Grant[] {
    return [...(this.#grants.get(so) ?? [])].map(grantOf);
  }
  addGrant(so: string, grant: Grant): boolean {
    const s = this.#grants.get(so) ?? new Set<string>();
    this.#grants.set(so, s);
    const k = grantKey(grant);
    if (s.has(k)) return false;
    s.add(k);
    return true;
  }
  removeGrant(so: string, grant: Grant): boolean {
    return this.#grants.get(so)?.delete(grantKey(grant)) ?? false;
  }
}
