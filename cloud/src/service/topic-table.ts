/**
 * @module The one topic table of the cloud's MQTT intake: each kind of message the cloud takes (device
 * uplink, function calls, gateway control replies) is a route, an MQTT topic filter and its handler, and
 * every message the intake receives, on whichever connection, is handed to the route its topic matches.
 */

/** The payload as MQTT clients hand it over (mqtt.js: a Buffer; aedes: a Buffer, or a string for a string publish). */
export type Payload = Buffer | string;

export interface Route {
  /** An MQTT topic filter: `+` matches one level, a trailing `#` any number (MQTT 5.0 §4.7.1). */
  readonly filter: string;
  /**
   * True for device uplink: the message is acknowledged to its sender only once `handle` resolved (at least
   * once: a rejected one is not acknowledged, so the broker or device sends it again). False: handled as it
   * arrives on the cloud's own connection.
   */
  readonly ack: boolean;
  /** Subscribe the cloud's own connection to `filter` at start (false: the handler subscribes as it needs). */
  readonly subscribe: boolean;
  /** 'drop' (ack routes only): acknowledged, but the broker delivers the message to no subscriber (refused by ingest). */
  handle(topic: string, payload: Payload): void | Promise<void> | Promise<'drop' | undefined>;
}

/** The filter as a regular expression over topics. */
function compile(filter: string): RegExp {
  const levels = filter.split('/');
  const multi = levels.at(-1) === '#';
  const exact = (multi ? levels.slice(0, -1) : levels).map((l) => (l === '+' ? '[^/]*' : l.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')));
  // `a/#` matches `a` itself and everything below it.
  return new RegExp(`^${exact.join('/')}${multi ? '(?:/.*)?' : ''}$`, 's');
}

export class TopicTable {
  readonly #routes: { readonly route: Route; readonly re: RegExp }[] = [];

  add(route: Route): void {
    this.#routes.push({ route, re: compile(route.filter) });
  }

  /** The route for a topic (the first added that matches), or undefined. */
  find(topic: string): Route | undefined {
    for (const r of this.#routes) if (r.re.test(topic)) return r.route;
    return undefined;
  }

  routes(): readonly Route[] {
    return this.#routes.map((r) => r.route);
  }
}
