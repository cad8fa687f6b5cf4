/**
 * @module Test support: a SoHosting (hosting.ts) over a real ComposeEngine and MemoryStore of
 * @ferry/compose, with the owner checks and grants the interface describes, for the tests of the parts
 * written against the seam (MQTT in and out, HTTP callbacks, device telemetry) and for the end-to-end bench.
 * The cloud's own host replaces it in production.
 */
import type { Result } from '@ferry/base';
import { ComposeEngine, type ComposeError, composeError, type Grant, MemoryGrants, MemoryStore, type PushReport, type SOSnapshot } from '@ferry/compose';
import type { Caller, HostedOutput, SoHosting } from './hosting.ts';

const notFound = (so: string, stream?: string): { ok: false; error: ComposeError } => ({
  ok: false,
  error: composeError('FERRY_COMPOSE_NOT_FOUND', 'no such object', { so, ...(stream !== undefined && { stream }) }),
});

export class TestHosting implements SoHosting {
  readonly store = new MemoryStore();
  readonly grants = new MemoryGrants();
  readonly engine: ComposeEngine;
  readonly #listeners = new Set<(o: HostedOutput) => void>();
  /** Objects moved out: they answer as absent until moved in again. */
  readonly #away = new Set<string>();

  constructor() {
    this.engine = new ComposeEngine({
      store: this.store,
      grants: this.grants,
      clock: { now: () => Date.now() },
      onOutput: (o) => {
        const owner = this.engine.so(o.so)?.owner ?? '';
        const hosted: HostedOutput = {
          owner,
          so: o.so,
          stream: o.stream,
          kind: this.engine.topology.nodes.get(`${o.so}/${o.stream}`)?.stream.composite === true ? 'output' : 'update',
          value: o.value,
        };
        for (const l of this.#listeners) l(hosted);
      },
    });
  }

  async create(owner: string, id: string, document: unknown): Promise<void> {
    const r = await this.engine.create(id, owner, document);
    if (!r.ok) throw r.error;
  }
  grant(so: string, g: Grant): void {
    this.engine.grant(so, g);
  }
  revoke(so: string, g: Grant): void {
    this.engine.revoke(so, g);
  }

  #owns(caller: Caller, so: string): boolean {
    const o = this.engine.so(so);
    return o !== undefined && !this.#away.has(so) && (caller.global === true || (caller.owner !== undefined && caller.owner === o.owner));
  }

  async push(caller: Caller, so: string, stream: string, update: unknown): Promise<Result<PushReport, ComposeError>> {
    if (!this.#owns(caller, so)) return notFound(so, stream);
    return this.engine.push(so, stream, update);
  }

  async mayRead(caller: Caller, so: string, stream: string): Promise<boolean> {
    const o = this.engine.so(so);
    if (o === undefined || this.#away.has(so) || !o.streams.has(stream)) return false;
    if (caller.global === true) return true;
    if (caller.owner === undefined && (caller.tokens ?? []).length === 0) return false;
    return this.grants.allows({ owner: caller.owner ?? '', tokens: caller.tokens ?? [] }, { so, stream, owner: o.owner });
  }

  onOutput(listener: (output: HostedOutput) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  async moveOut(caller: Caller, so: string): Promise<Result<readonly SOSnapshot[], ComposeError>> {
    if (!this.#owns(caller, so)) return notFound(so);
    const snap = await this.engine.snapshot(so);
    if (!snap.ok) return snap;
    this.#away.add(so);
    return { ok: true, value: [snap.value] };
  }

  async moveIn(_caller: Caller, snapshots: readonly unknown[]): Promise<Result<void, ComposeError>> {
    for (const s of snapshots) {
      const r = await this.engine.restore(s);
      if (!r.ok) return r;
      this.#away.delete(r.value.id);
    }
    return { ok: true, value: undefined };
  }
}

/** A one-stream sensor object: stream `s` with numeric channel `v` (and `w`). */
export const SENSOR_SO = { streams: { s: { channels: { v: { type: 'number', unit: '' }, w: { type: 'number', unit: '' } } } } };

/** A sensor update of SENSOR_SO. */
export const su = (v: number, lastUpdate: number): { channels: { v: { 'current-value': number } }; lastUpdate: number } => ({
  channels: { v: { 'current-value': v } },
  lastUpdate,
});
