/**
 * @module Anti-replay for encrypted BTHome adverts: per MAC, the last accepted encryption counter; a counter
 * not greater than it is refused. bthome.io/encryption leaves replay protection to the receiver ("verifying
 * that the counter has increased compared to the previous counter value"). The decoder consults the guard
 * only after the MIC verifies, so forged adverts can neither be refused as replays nor advance the counter.
 */
import { fail, ok, type DecodeResult } from '../decoders/errors.ts';

/** "54-48-e6-8f-80-a5" and "5448E68F80A5" both become "54:48:E6:8F:80:A5". */
function macKey(mac: string): string {
  const digits = mac.replace(/[^0-9a-fA-F]/g, '').toUpperCase();
  return digits.length === 12 ? (digits.match(/../g) ?? []).join(':') : mac.toUpperCase();
}

export interface ReplayGuardOptions {
  /**
   * Called with every counter the guard accepts, before accept() returns: a store writes it through, so an
   * advert accepted before a crash cannot be replayed after it.
   */
  readonly onAdvance?: (mac: string, counter: number) => void;
}

export class ReplayGuard {
  readonly #last = new Map<string, number>();
  readonly #onAdvance: ((mac: string, counter: number) => void) | undefined;

  /** Optionally seeded with persisted (mac, last counter) pairs, e.g. from entries() before a restart. */
  constructor(initial?: Iterable<readonly [string, number]>, opts: ReplayGuardOptions = {}) {
    for (const [mac, counter] of initial ?? []) this.#last.set(macKey(mac), counter);
    this.#onAdvance = opts.onAdvance;
  }

  /**
   * Accepts `counter` for `mac` if it is greater than the last accepted one (or the MAC is new) and records
   * it; otherwise FERRY_DECODE_REPLAYED and nothing changes.
   */
  accept(mac: string, counter: number): DecodeResult<number> {
    const key = macKey(mac);
    const last = this.#last.get(key);
    if (last !== undefined && counter <= last) {
      return fail('FERRY_DECODE_REPLAYED', `encryption counter ${counter} from ${key} is not greater than the last accepted ${last}`);
    }
    this.#last.set(key, counter);
    this.#onAdvance?.(key, counter);
    return ok(counter);
  }

  /** The last accepted counter for `mac`, if any. */
  last(mac: string): number | undefined {
    return this.#last.get(macKey(mac));
  }

  /** Forgets one MAC (e.g. after a device was re-keyed and its counter restarted). */
  forget(mac: string): boolean {
    return this.#last.delete(macKey(mac));
  }

  /** Snapshot for persistence. */
  entries(): Array<[string, number]> {
    return [...this.#last.entries()];
  }
}
