/**
 * @module From-scratch recomputation: the value every composite stream should hold given only the
 * simple streams' latest values, computed level by level with nothing stored in between. Glitch-free
 * propagation must always agree with it (the property test and bench:compose check this). It covers
 * template channels without self reads or filters, whose result depends on the inputs alone; JavaScript,
 * wasm, filters and self reads depend on history or on a runner and are left out (their streams map to
 * undefined).
 */
import { evaluate } from './eval.ts';
import type { Topology } from './topology.ts';
import type { StreamValue, Value } from './values.ts';

type Channels = Readonly<Record<string, Value>>;
export interface Expected {
  readonly channels: Channels;
  readonly lastUpdate: number;
}

export function recompute(topology: Topology, source: (key: string) => StreamValue | undefined): Map<string, Expected | null | undefined> {
  const out = new Map<string, Expected | null | undefined>();
  const nodes = [...topology.nodes.values()].sort((a, b) => a.level - b.level);
  for (const n of nodes) {
    if (!n.stream.composite) {
      const v = source(n.key);
      out.set(n.key, v === undefined ? null : { channels: v.channels, lastUpdate: v.lastUpdate });
      continue;
    }
    const plain =
      !n.stream.readsSelf &&
      n.stream.pre === undefined &&
      n.stream.post === undefined &&
      [...n.stream.channels.values()].every((c) => c.code === undefined || c.code.kind === 'template');
    if (!plain || n.deps.some((d) => out.get(d) === undefined)) {
      out.set(n.key, undefined);
      continue;
    }
    const scope = new Map<string, Expected | null>();
    let lastUpdate = -1;
    for (const [name, keys] of n.members) {
      let best: Expected | null = null;
      for (const k of keys) {
        const v = out.get(k) ?? null;
        if (v !== null && (best === null || v.lastUpdate > best.lastUpdate)) best = v;
      }
      scope.set(name, best);
      if (best !== null) lastUpdate = Math.max(lastUpdate, best.lastUpdate);
    }
    const channels: Record<string, Value> = {};
    let ok = lastUpdate >= 0;
    for (const ch of n.stream.channels.values()) {
      if (!ok || ch.code === undefined || ch.code.kind !== 'template') continue;
      const refs = ch.code.expr.refs.map((r) => {
        const d = scope.get(r.name) ?? null;
        if (d === null) return null;
        return r.path[0] === 'lastUpdate' ? d.lastUpdate : (d.channels[r.path[1]!] ?? null);
      });
      const r = evaluate(ch.code.expr, refs);
      if (!r.ok || r.value.value === null) ok = false;
      else channels[ch.name] = r.value.value;
    }
    out.set(n.key, ok ? { channels, lastUpdate } : null);
  }
  return out;
}
