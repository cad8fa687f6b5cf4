/**
 * @module Composite streams inside the gateway daemon (docs/composite-streams.md, "On the gateway"): the host
 * over `compose.db` in the data directory, JavaScript functions in the QuickJS sandbox, wasm functions refused
 * with FERRY_COMPOSE_NO_RUNNER (the gateway has no function runner), readings of local sources fed to simple
 * streams as `compose.feeds` maps them, and every accepted update and output signed and queued in the outbox
 * for the cloud (`<prefix>/up/<gateway>/so`, event `so`) before its wave commits, so nothing computed here is
 * lost while the gateway is offline. A reading for an object that moved to the cloud goes up as a `feed`.
 */
import { join } from 'node:path';
import type { Json } from '@ferry/message';
import { JsSandboxPool } from '@ferry/js-sandbox';
import type { Reading } from '../sources/types.ts';
import type { ComposeConfig } from './config.ts';
import { ComposeHost, type HostedValue } from './host.ts';
import { gatewayJsRunner } from './js-runner.ts';
import { GatewayComposeStore } from './store.ts';

/** What the gateway sends up for composite streams: the `d` claim of an `so` message. */
export type SoUplink =
  | { readonly kind: 'update' | 'output'; readonly owner: string; readonly so: string; readonly stream: string; readonly value: HostedValue['value'] }
  | {
      readonly kind: 'feed';
      readonly so: string;
      readonly stream: string;
      readonly update: { channels: Record<string, { 'current-value': Json }>; lastUpdate: number };
    };

export interface GatewayComposeParts {
  readonly dataDir: string;
  readonly config: ComposeConfig;
  /** Signs `d` as an `so` message and commits it to the outbox; false when the outbox refused it. */
  readonly up: (d: SoUplink) => boolean;
  readonly problem: (code: string, message: string) => void;
}

export class GatewayCompose {
  readonly host: ComposeHost;
  readonly #store: GatewayComposeStore;
  readonly #pool: JsSandboxPool;
  readonly #parts: GatewayComposeParts;

  private constructor(parts: GatewayComposeParts, store: GatewayComposeStore, pool: JsSandboxPool) {
    this.#parts = parts;
    this.#store = store;
    this.#pool = pool;
    this.host = new ComposeHost({
      store,
      clock: { now: Date.now },
      js: gatewayJsRunner(pool),
      beforeCommit: (values) => {
        for (const v of values) {
          const d: SoUplink = { kind: v.kind, owner: v.owner, so: v.so, stream: v.stream, value: v.value };
          // Refused by the outbox: the wave is undone, as if the update had never come.
          if (!parts.up(d)) throw new Error(`the outbox refused ${v.so}/${v.stream}`);
        }
      },
    });
  }

  /** Opens compose.db, loads the sandbox and installs the objects the gateway hosted before it stopped. */
  static async open(parts: GatewayComposeParts): Promise<GatewayCompose> {
    const store = new GatewayComposeStore(join(parts.dataDir, 'compose.db'), parts.config.history);
    const c = new GatewayCompose(parts, store, await JsSandboxPool.create());
    for (const why of await c.host.load()) parts.problem('FERRY_COMPOSE_DOCUMENT', `object not installed again: ${why}`);
    return c;
  }

  /** Feeds a reading to every simple stream a feed maps it to (here, or up to the cloud when the object moved there). */
  reading(r: Reading): void {
    for (const f of this.#parts.config.feeds) {
      if (f.device !== r.device || (f.kind !== undefined && f.kind !== r.kind)) continue;
      const channels: Record<string, { 'current-value': Json }> = {};
      for (const [ch, field] of Object.entries(f.channels)) {
        const v = r.values[field];
        if (v !== undefined) channels[ch] = { 'current-value': v };
      }
      if (Object.keys(channels).length === 0) continue;
      const update = { channels, lastUpdate: r.atMs };
      const up = (): void => {
        if (!this.#parts.up({ kind: 'feed', so: f.so, stream: f.stream, update }))
          this.#parts.problem('FERRY_GW_OUTBOX_FULL', `${f.so}/${f.stream}: feed refused`);
      };
      if (this.host.engine.so(f.so) === undefined) {
        up();
        continue;
      }
      this.host.push({ global: true }, f.so, f.stream, update).then(
        (res) => {
          // The object moved away while the update waited for its turn: it goes where the object went.
          if (!res.ok && res.error.code === 'FERRY_COMPOSE_NOT_FOUND' && this.host.engine.so(f.so) === undefined) up();
          else if (!res.ok) this.#parts.problem(res.error.code, res.error.message);
        },
        (e: Error) => this.#parts.problem('FERRY_GW_OUTBOX_WRITE', `${f.so}/${f.stream}: ${e.message}`),
      );
    }
  }

  close(): void {
    this.#pool.close();
    this.#store.close();
  }
}
