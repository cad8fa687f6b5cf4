/**
 * @module One deadline per key, due in (time, key) order: a binary min-heap with lazy deletion. The alarm
 * operator keeps a source's next deadline here (its `forMs` running out, its data going missing), so moving
 * time touches only the sources that are due, not every source.
 *
 * Ties are broken by key rather than by insertion, so the order depends only on the deadlines themselves: a
 * restored job rebuilds the heap from its sources and fires in the same order as the job it was moved from.
 */

type Entry = { readonly at: number; readonly key: string };

const before = (a: Entry, b: Entry): boolean => a.at < b.at || (a.at === b.at && a.key < b.key);

export class DeadlineQueue {
  /** The live deadline of each key; heap entries that disagree with it are stale and skipped. */
  readonly #live = new Map<string, number>();
  #heap: Entry[] = [];

  get size(): number {
    return this.#live.size;
  }

  set(key: string, at: number): void {
    if (this.#live.get(key) === at) return;
    this.#live.set(key, at);
    this.#push({ at, key });
    // Stale entries pile up when deadlines move; rebuilding past twice the live count keeps the heap O(keys).
    if (this.#heap.length > 2 * this.#live.size + 64) this.#rebuild();
  }

  delete(key: string): void {
    this.#live.delete(key);
  }

  clear(): void {
    this.#live.clear();
    this.#heap = [];
  }

  /** Removes and returns the earliest live deadline at or before `nowMs`; undefined when none is due. */
  popDue(nowMs: number): Entry | undefined {
    for (;;) {
      const top = this.#heap[0];
      if (top === undefined) return undefined;
      if (this.#live.get(top.key) !== top.at) {
        this.#pop();
        continue;
      }
      if (top.at > nowMs) return undefined;
      this.#pop();
      this.#live.delete(top.key);
      return top;
    }
  }

  #rebuild(): void {
    this.#heap = [];
    for (const [key, at] of this.#live) this.#push({ at, key });
  }

  #push(entry: Entry): void {
    const heap = this.#heap;
    heap.push(entry);
    let i = heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const up = heap[parent];
      if (up === undefined || !before(entry, up)) break;
      heap[i] = up;
      i = parent;
    }
    heap[i] = entry;
  }

  #pop(): void {
    const heap = this.#heap;
    const last = heap.pop();
    if (last === undefined || heap.length === 0) return;
    let i = 0;
    for (;;) {
      const left = 2 * i + 1;
      const right = left + 1;
      let child = left;
      const r = heap[right];
      const l = heap[left];
      if (l === undefined) break;
      if (r !== undefined && before(r, l)) child = right;
      const c = heap[child];
      if (c === undefined || !before(c, last)) break;
      heap[i] = c;
      i = child;
    }
    heap[i] = last;
  }
}
