/**
 * @module Snapshot and restore of one service object: its document, owner, and every stream's latest
 * value (for a composite, its last output, idempotency key included). A move between gateway and cloud
 * carries one; restoring never replaces a value by an older one, so replaying a move emits nothing twice.
 */
import type { Result } from '@ferry/base';
import type { CompiledSO } from './document.ts';
import { type ComposeError, composeError } from './errors.ts';
import type { ComposeStore } from './ports.ts';
import { keyOf } from './topology.ts';
import { type StreamValue, type Value, valueProblem } from './values.ts';

export const SNAPSHOT_FORMAT = 'ferry-compose-snapshot/1';

export interface SOSnapshot {
  readonly format: typeof SNAPSHOT_FORMAT;
  readonly so: string;
  readonly owner: string;
  readonly document: Readonly<Record<string, unknown>>;
  readonly streams: Readonly<Record<string, StreamValue | null>>;
}

export async function takeSnapshot(so: CompiledSO, store: ComposeStore): Promise<SOSnapshot> {
  const streams: Record<string, StreamValue | null> = {};
  for (const name of so.streams.keys()) streams[name] = (await store.latest(keyOf(so.id, name))) ?? null;
  return { format: SNAPSHOT_FORMAT, so: so.id, owner: so.owner, document: so.document, streams };
}

const isRecord = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);

function checkValue(v: unknown): v is StreamValue {
  if (!isRecord(v) || typeof v['id'] !== 'string' || typeof v['lastUpdate'] !== 'number' || !Number.isSafeInteger(v['lastUpdate']) || !isRecord(v['channels']))
    return false;
  return Object.values(v['channels']).every((c) => valueProblem(c as Value) === undefined);
}

type Create = (id: string, owner: string, document: unknown) => Promise<Result<CompiledSO, ComposeError>>;

export class Restorer {
  readonly #store: ComposeStore;
  readonly #create: Create;
  readonly #lookup: (id: string) => CompiledSO | undefined;

  constructor(store: ComposeStore, create: Create, lookup: (id: string) => CompiledSO | undefined) {
    this.#store = store;
    this.#create = create;
    this.#lookup = lookup;
  }

  async restore(raw: unknown): Promise<Result<CompiledSO, ComposeError>> {
    const bad = (detail: string): { ok: false; error: ComposeError } => ({ ok: false, error: composeError('FERRY_COMPOSE_SNAPSHOT', detail) });
    if (!isRecord(raw) || raw['format'] !== SNAPSHOT_FORMAT) return bad(`a snapshot has format ${SNAPSHOT_FORMAT}`);
    const { so: id, owner, document, streams } = raw;
    if (typeof id !== 'string' || typeof owner !== 'string' || !isRecord(document) || !isRecord(streams))
      return bad('a snapshot has so, owner, document and streams');
    for (const v of Object.values(streams)) if (v !== null && !checkValue(v)) return bad('a stream value is not {channels, lastUpdate, id}');
    let so = this.#lookup(id);
    if (so !== undefined && so.owner !== owner) return bad(`object ${id} is installed for another owner`);
    if (so === undefined) {
      const c = await this.#create(id, owner, document);
      if (!c.ok) return c;
      so = c.value;
    }
    for (const name of Object.keys(streams)) if (!so.streams.has(name)) return bad(`object ${id} has no stream ${name}`);
    for (const [name, v] of Object.entries(streams)) {
      if (v === null) continue;
      const key = keyOf(id, name);
      const mine = await this.#store.latest(key);
      if (mine !== undefined && mine.lastUpdate >= (v as StreamValue).lastUpdate) continue;
      await this.#store.setLatest(key, v as StreamValue);
    }
    return { ok: true, value: so };
  }
}
