/** @module A function runner that reports how long each call took and how it ended (the function call histogram). */
import type { Runner } from '../functions/index.ts';

export const timedRunner = (inner: Runner, observe: (seconds: number, outcome: string) => void): Runner => ({
  run: async (req) => {
    const t0 = performance.now();
    const r = await inner.run(req);
    observe((performance.now() - t0) / 1000, r.ok ? 'ok' : r.error.code);
    return r;
  },
  close: () => inner.close(),
});
