/**
 * @module Orders and groups service objects by their references (a group names other objects): the order
 * objects are installed in (every member before the objects that read it), and the connected component of
 * an object (every object linked to it by references, either way), which moves as one.
 */

/** The objects an object's document names as group members. */
export function membersOf(document: Readonly<Record<string, unknown>>): string[] {
  const groups = document['groups'];
  if (typeof groups !== 'object' || groups === null || Array.isArray(groups)) return [];
  const out = new Set<string>();
  for (const g of Object.values(groups as Record<string, unknown>)) {
    const ids = (g as { soIds?: unknown } | null)?.soIds;
    if (Array.isArray(ids)) for (const id of ids) if (typeof id === 'string') out.add(id);
  }
  return [...out];
}

/**
 * Members first: each item after every item of the list it names. Items in a loop (which the engine refuses)
 * or naming absent items keep their place at the end, so the caller meets their typed error.
 */
export function dependencyOrder<T>(items: readonly T[], idOf: (t: T) => string, deps: (t: T) => readonly string[]): T[] {
  const byId = new Map(items.map((t) => [idOf(t), t]));
  const done = new Set<string>();
  const out: T[] = [];
  let pending = [...items];
  while (pending.length > 0) {
    const next = pending.filter((t) => !deps(t).every((d) => done.has(d) || !byId.has(d) || d === idOf(t)));
    const ready = pending.filter((t) => !next.includes(t));
    if (ready.length === 0) return [...out, ...next];
    for (const t of ready) {
      out.push(t);
      done.add(idOf(t));
    }
    pending = next;
  }
  return out;
}

/** The connected component of `start`: objects reachable over references in either direction. */
export function componentOf(start: string, deps: (id: string) => readonly string[] | undefined, all: Iterable<string>): string[] {
  const readers = new Map<string, string[]>();
  for (const id of all) {
    for (const d of deps(id) ?? []) {
      const r = readers.get(d) ?? [];
      readers.set(d, r);
      r.push(id);
    }
  }
  const seen = new Set([start]);
  const queue = [start];
  for (let i = 0; i < queue.length; i++) {
    const id = queue[i]!;
    for (const n of [...(deps(id) ?? []), ...(readers.get(id) ?? [])]) {
      if (seen.has(n) || deps(n) === undefined) continue;
      seen.add(n);
      queue.push(n);
    }
  }
  return queue;
}
