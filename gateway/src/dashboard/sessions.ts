/**
 * @module The gateway dashboard's browser sessions (docs/gateway.md, "Dashboard"): logging in with the API
 * token opens one; the cookie holds an opaque random id, never the token. Kept in memory (a restart logs
 * everyone out), bounded in number, each for a fixed time.
 */
import { randomBytes } from 'node:crypto';

/** How long a session lasts (docs/limits.md). */
export const GATEWAY_SESSION_MS = 12 * 3600_000;
/** Sessions held at most: one more closes the oldest, so a flood of logins cannot grow memory. */
export const MAX_GATEWAY_SESSIONS = 256;
/** The cookie's name: not the cloud's `ferry_session`, since a browser sends a host's cookies to every port. */
export const GATEWAY_SESSION_COOKIE = 'ferry_gateway_session';

export class GatewaySessions {
  readonly #expires = new Map<string, number>();
  readonly #now: () => number;
  readonly #ttlMs: number;
  readonly #max: number;

  constructor(o: { nowMs?: () => number; ttlMs?: number; max?: number } = {}) {
    this.#now = o.nowMs ?? Date.now;
    this.#ttlMs = o.ttlMs ?? GATEWAY_SESSION_MS;
    this.#max = o.max ?? MAX_GATEWAY_SESSIONS;
  }

  open(): { id: string; expiresMs: number } {
    while (this.#expires.size >= this.#max) {
      const oldest = this.#expires.keys().next();
      if (oldest.done === true) break;
      this.#expires.delete(oldest.value);
    }
    const id = randomBytes(32).toString('base64url');
    const expiresMs = this.#now() + this.#ttlMs;
    this.#expires.set(id, expiresMs);
    return { id, expiresMs };
  }

  /** Whether `id` names a current session; an expired one is forgotten here. */
  valid(id: string | undefined): boolean {
    if (id === undefined) return false;
    const at = this.#expires.get(id);
    if (at === undefined) return false;
    if (at > this.#now()) return true;
    this.#expires.delete(id);
    return false;
  }

  close(id: string | undefined): void {
    if (id !== undefined) this.#expires.delete(id);
  }

  get size(): number {
    return this.#expires.size;
  }
}
