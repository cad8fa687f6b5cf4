/** @module Waiting in integration tests for something another process or the event loop brings about. */

/** Resolves once `cond` holds (polled every 20 ms); rejects naming `what` after `ms`. */
export async function until(cond: () => boolean | Promise<boolean>, what: string, ms = 15_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
