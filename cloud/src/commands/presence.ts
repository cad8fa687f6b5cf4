/**
 * @module Which devices can take a command now (docs/actions.md "Lifecycle"). Embedded, the broker says
 * so exactly: a client subscribed to a device's command topic (`<prefix>/dn/<id>/cmd` or `<prefix>/dn/<id>/#`;
 * the device itself, or its gateway for a serial board) until it disconnects. Scale-out, the external broker
 * tells the cloud nothing of its clients: a device is taken as online for a while after its last uplink.
 */

export class Presence {
  readonly #prefix: string;
  readonly #uplinkMs: number | undefined;
  readonly #now: () => number;
  /** Devices each client is subscribed for, and how many clients each device has. */
  readonly #byClient = new Map<string, Set<string>>();
  readonly #count = new Map<string, number>();
  readonly #seen = new Map<string, number>();

  /** `uplinkMs`: scale-out, how long an uplink keeps a device online; undefined: subscriptions only (embedded). */
  constructor(prefix: string, uplinkMs: number | undefined, now: () => number = Date.now) {
    this.#prefix = `${prefix}/dn/`;
    this.#uplinkMs = uplinkMs;
    this.#now = now;
  }

  /** A client subscribed to `filters`; returns the devices it now takes commands for. */
  subscribed(clientId: string, filters: readonly string[]): string[] {
    const got: string[] = [];
    for (const f of filters) {
      if (!f.startsWith(this.#prefix)) continue;
      const [id, tail, ...more] = f.slice(this.#prefix.length).split('/');
      if (id === undefined || id === '' || id === '+' || id === '#' || more.length > 0 || (tail !== 'cmd' && tail !== '#')) continue;
      const mine = this.#byClient.get(clientId) ?? new Set<string>();
      this.#byClient.set(clientId, mine);
      if (mine.has(id)) continue;
      mine.add(id);
      this.#count.set(id, (this.#count.get(id) ?? 0) + 1);
      got.push(id);
    }
    return got;
  }

  /** The devices a client takes commands for. */
  devicesOf(clientId: string): ReadonlySet<string> {
    return this.#byClient.get(clientId) ?? new Set();
  }

  disconnected(clientId: string): void {
    for (const id of this.#byClient.get(clientId) ?? []) {
      const n = (this.#count.get(id) ?? 1) - 1;
      if (n <= 0) this.#count.delete(id);
      else this.#count.set(id, n);
    }
    this.#byClient.delete(clientId);
  }

  /** An uplink of the device was released (scale-out presence); true when it was not online before (send what waits). */
  seen(device: string): boolean {
    if (this.#uplinkMs === undefined) return false;
    const was = this.online(device);
    if (this.#seen.size > 200_000) this.#seen.clear();
    this.#seen.set(device, this.#now());
    return !was;
  }

  online(device: string): boolean {
    if (this.#count.has(device)) return true;
    const at = this.#seen.get(device);
    return this.#uplinkMs !== undefined && at !== undefined && this.#now() - at < this.#uplinkMs;
  }
}
