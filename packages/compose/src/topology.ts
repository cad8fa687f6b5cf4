/**
 * @module The topology: every stream of every installed object as a node keyed `<so>/<stream>`, its
 * upstream streams (group references expanded to their members) and its level (0 for a simple stream,
 * 1 + the highest level of its inputs otherwise). Levels increase along every edge, so processing a wave
 * level by level is a topological order. Cycles are refused when an object is added; a stream reading its
 * own previous output is no edge. Depth and fan-in are capped (LIMITS; docs/composite-streams.md).
 */
import type { CompiledSO, CompiledStream } from './document.ts';
import { type ComposeError, composeError } from './errors.ts';

export const LIMITS = {
  /** Longest chain of composite streams above a simple stream. */
  maxDepth: 32,
  /** Distinct streams one composite reads (group members counted one by one). */
  maxFanIn: 64,
  /** Streams installed in one engine. */
  maxStreams: 1_000_000,
};
export type Limits = typeof LIMITS;

export interface Node {
  readonly key: string;
  readonly so: CompiledSO;
  readonly stream: CompiledStream;
  /** Input name (stream of the object, or group) -> the stream keys it reads. */
  readonly members: ReadonlyMap<string, readonly string[]>;
  /** Distinct upstream keys, never the node itself. */
  readonly deps: readonly string[];
  readonly level: number;
}

const NO_MEMBERS: ReadonlyMap<string, readonly string[]> = new Map();
const NO_DEPS: readonly string[] = [];

export const keyOf = (so: string, stream: string): string => `${so}/${stream}`;

export class Topology {
  readonly nodes = new Map<string, Node>();
  /** Readers of each stream; arrays rather than sets, since most streams have a few readers and 100 000 sets would cost megabytes. */
  readonly downstream = new Map<string, string[]>();
  readonly #limits: Limits;

  constructor(limits: Limits) {
    this.#limits = limits;
  }

  /** Resolves the object's references against the installed objects and the object itself, checks cycles and limits; adds nothing. */
  plan(so: CompiledSO, lookup: (id: string) => CompiledSO | undefined): { ok: true; value: Node[] } | { ok: false; error: ComposeError } {
    const at = { so: so.id };
    if (this.nodes.size + so.streams.size > this.#limits.maxStreams)
      return { ok: false, error: composeError('FERRY_COMPOSE_LIMIT', `more than ${this.#limits.maxStreams} streams`, at) };
    const resolved = new Map<string, { stream: CompiledStream; members: ReadonlyMap<string, readonly string[]>; deps: readonly string[] }>();
    for (const stream of so.streams.values()) {
      const where = { ...at, stream: stream.name };
      if (stream.inputs.size === 0) {
        resolved.set(keyOf(so.id, stream.name), { stream, members: NO_MEMBERS, deps: NO_DEPS });
        continue;
      }
      const members = new Map<string, string[]>();
      for (const name of stream.inputs) {
        const group = so.groups.get(name);
        if (group === undefined) {
          members.set(name, [keyOf(so.id, name)]);
          continue;
        }
        const keys: string[] = [];
        for (const m of group.soIds) {
          const target = m === so.id ? so : lookup(m);
          if (target === undefined) return { ok: false, error: composeError('FERRY_COMPOSE_REFERENCE', `group ${name}: no object ${m}`, where) };
          if (!target.streams.has(group.stream))
            return { ok: false, error: composeError('FERRY_COMPOSE_REFERENCE', `group ${name}: object ${m} has no stream ${group.stream}`, where) };
          keys.push(keyOf(m, group.stream));
        }
        members.set(name, keys);
      }
      const self = keyOf(so.id, stream.name);
      // A simple stream is fed from outside only: what its filters read never triggers it.
      const deps = stream.composite ? [...new Set([...members.values()].flat())].filter((k) => k !== self) : [];
      if (deps.length > this.#limits.maxFanIn)
        return { ok: false, error: composeError('FERRY_COMPOSE_LIMIT', `reads ${deps.length} streams, more than ${this.#limits.maxFanIn}`, where) };
      resolved.set(self, { stream, members, deps });
    }
    // Depth-first over the new streams (edges into installed streams cannot close a loop: those never read new ones).
    const level = new Map<string, number>();
    const state = new Map<string, 'open' | 'done'>();
    const visit = (key: string, path: string[]): ComposeError | undefined => {
      const r = resolved.get(key)!;
      state.set(key, 'open');
      let lv = 0;
      for (const d of r.deps) {
        if (resolved.has(d)) {
          if (state.get(d) === 'open') {
            const loop = [...path.slice(path.indexOf(d)), key, d].map((k) => k.slice(so.id.length + 1));
            return composeError('FERRY_COMPOSE_CYCLE', `the streams read each other: ${loop.join(' -> ')}`, { ...at, stream: r.stream.name });
          }
          if (state.get(d) !== 'done') {
            const e = visit(d, [...path, key]);
            if (e !== undefined) return e;
          }
          lv = Math.max(lv, level.get(d)! + 1);
        } else lv = Math.max(lv, (this.nodes.get(d)?.level ?? 0) + 1);
      }
      if (!r.stream.composite) lv = 0;
      if (lv > this.#limits.maxDepth)
        return composeError('FERRY_COMPOSE_LIMIT', `lies ${lv} composite streams above a simple stream, more than ${this.#limits.maxDepth}`, {
          ...at,
          stream: r.stream.name,
        });
      level.set(key, lv);
      state.set(key, 'done');
      return undefined;
    };
    for (const key of resolved.keys()) {
      if (state.get(key) === 'done') continue;
      const e = visit(key, []);
      if (e !== undefined) return { ok: false, error: e };
    }
    return {
      ok: true,
      value: [...resolved].map(([key, r]) => ({ key, so, stream: r.stream, members: r.members, deps: r.deps, level: level.get(key)! })),
    };
  }

  add(nodes: readonly Node[]): void {
    for (const n of nodes) {
      this.nodes.set(n.key, n);
      for (const d of n.deps) {
        const s = this.downstream.get(d) ?? [];
        this.downstream.set(d, s);
        if (!s.includes(n.key)) s.push(n.key);
      }
    }
  }

  /** Keys of other objects' streams that read one of `soId`'s streams. */
  readersOutside(soId: string): string[] {
    const out: string[] = [];
    for (const [k, n] of this.nodes) if (n.so.id !== soId && n.deps.some((d) => d.startsWith(`${soId}/`))) out.push(k);
    return out;
  }

  remove(soId: string): void {
    for (const [k, n] of [...this.nodes]) {
      if (n.so.id !== soId) continue;
      this.nodes.delete(k);
      this.downstream.delete(k);
      for (const d of n.deps) {
        const s = this.downstream.get(d);
        if (s !== undefined)
          this.downstream.set(
            d,
            s.filter((x) => x !== k),
          );
      }
    }
  }
}
