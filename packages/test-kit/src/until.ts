/** @module Polling for a condition in integration tests: real processes and brokers, so no fake clock to drive. */

/** Resolves once `cond` holds, checking every `everyMs`; throws naming `what` after `ms` (a wedged run, not a timing assertion). */
export async function until(cond: () => boolean | Promise<boolean>, what: string, ms = 30_000, everyMs = 50): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
