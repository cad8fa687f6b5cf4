/**
 * @module The topology the move and lease tests feed (test support): two objects in one connected component,
 * a diamond whose paths have different lengths (glitch-free order shows), a running sum over its own previous
 * output (state a move must carry) and a reader through a group, plus an unmoved reference run to compare against.
 */
import { ComposeEngine, MemoryStore, type StreamValue } from '@ferry/compose';

const ref = (s: string) => `{$${s}.channels.a.current-value}`;
const num = (cv?: string) => ({ channels: { a: { type: 'number', ...(cv !== undefined && { 'current-value': cv }) } } });

export const OWNER = 'alice';
export const OBJECTS: readonly (readonly [string, Record<string, unknown>])[] = [
  [
    'T',
    {
      streams: {
        S: num(),
        B: num(`${ref('S')} * 2`),
        C: num(`${ref('B')} + 1`),
        D: num(`${ref('S')} + ${ref('C')}`),
        // Reads its own previous output (a running sum): a move that lost the last outputs would show here.
        Acc: num(`(${ref('Acc')} ?? 0) + ${ref('S')}`),
      },
    },
  ],
  ['U', { groups: { g: { soIds: ['T'], stream: 'D' } }, streams: { E: num(`${ref('g')} * 10`) } }],
];
/** Every computed stream, as `<so>/<stream>`. */
export const COMPOSITES = ['T/B', 'T/C', 'T/D', 'T/Acc', 'U/E'] as const;

/** The i-th update of the source stream T/S (lastUpdate i + 1, so every one is newer). */
export const update = (i: number) => ({ channels: { a: { 'current-value': (i * 7) % 101 } }, lastUpdate: i + 1 });

/** What an unmoved engine stores for `n` updates: each composite's history, oldest first. */
export async function reference(n: number): Promise<Map<string, StreamValue[]>> {
  const store = new MemoryStore(1_000_000);
  const e = new ComposeEngine({ store, clock: { now: () => 0 } });
  for (const [id, doc] of OBJECTS) {
    const r = await e.create(id, OWNER, doc);
    if (!r.ok) throw r.error;
  }
  for (let i = 0; i < n; i++) await e.push('T', 'S', update(i));
  return new Map(COMPOSITES.map((k) => [k, [...store.range(k, 0, Number.MAX_SAFE_INTEGER)]]));
}
