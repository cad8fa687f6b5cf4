/**
 * @module Moves of composite streams between the cloud and gateways (docs/composite-streams.md, "Moves"),
 * the way rule jobs move (docs/rules.md, "Moving a rule"): the source takes the connected component out
 * (one snapshot per object: document, latest values, last outputs with their idempotency keys), the target
 * installs it, and if the target refuses or cannot be reached the source installs it again from the same
 * snapshots. A gateway is reached over its control channel (`POST /api/so/move` on its API); asking it again
 * for a component it already gave up answers the same snapshots, so a reply lost on the way loses nothing,
 * and installing snapshots twice emits nothing twice. Only a gateway of the objects' owner takes them (an
 * ownerless gateway only from a global caller), and a gateway gives back only objects of its owner.
 *
 * While a move runs, requests for objects wait for it: a push, and a `feed` a gateway sent up for an object
 * that left it, go where the object is once the move is done. Values a gateway computed come up through its
 * outbox (`so` messages) and are handed to `onGatewayValue` listeners for storage and subscribers.
 */
import type { Result } from '@ferry/base';
import { type ComposeError, composeError, type PushReport, type SOSnapshot, type StreamValue } from '@ferry/compose';
import { ApiError } from '@ferry/rules-host';
import type { Caller, HostedOutput, SoHosting } from './hosting.ts';

/** What a move carries on the wire, both ways (the gateway's routes speak it too). */
export const MOVE_FORMAT = 'ferry-compose-move/1';
/** Objects one move carries at most. */
export const MAX_MOVE_OBJECTS = 256;

export type Location = 'cloud' | `gateway:${string}`;

/** Where an object is, whose it is, and (once it moved) the streams its document declares. */
export interface PlacedObject {
  readonly where: Location;
  readonly owner: string;
  readonly streams?: readonly string[] | undefined;
}

/**
 * Where objects live. In memory by default; the cloud keeps it in cloud.db (storage/sqlite/so-locations.ts)
 * so it survives a restart.
 */
export interface Locations {
  get(so: string): PlacedObject | undefined;
  set(so: string, at: PlacedObject | undefined): void;
  /** Every object not in the cloud, with where it is (the object list, GET /api/v1/sos). */
  elsewhere?(): (PlacedObject & { readonly so: string })[];
}

export type GatewayRequest = (gatewayId: string, method: 'GET' | 'POST', path: string, body?: unknown) => Promise<{ status: number; body: unknown }>;

export interface SoMoveParts {
  readonly host: SoHosting;
  /** A request to a gateway's API over its control channel (CloudService.gatewayRequest). */
  readonly gatewayRequest: GatewayRequest;
  /** The gateway's record (its owner, if it has one), or undefined when `id` is no gateway. */
  readonly gateway: (id: string) => { readonly owner?: string | undefined } | undefined;
  readonly locations?: Locations;
  /**
   * The owner of an object the cloud's host holds (undefined: none there). Asked before anything else, so a
   * move of another owner's object, or of none, answers not found whatever the target.
   */
  readonly ownerOf?: (so: string) => string | undefined;
  /** Times a control request that got no answer is sent again (default 2). */
  readonly retries?: number;
}

export interface MoveReport {
  readonly from: Location;
  readonly to: Location;
  /** The objects that moved (the connected component), in install order. */
  readonly so: readonly string[];
}

/** A value a gateway computed or accepted, as its `so` message carried it. */
export interface GatewayValue extends HostedOutput {
  readonly gateway: string;
}

type MoveResult = Result<MoveReport, ComposeError | ApiError>;
const GATEWAY = /^gateway:([A-Za-z0-9._-]{1,32})$/;
const notFound = (so: string): { ok: false; error: ComposeError } => ({ ok: false, error: composeError('FERRY_COMPOSE_NOT_FOUND', 'no such object', { so }) });
const failed = (message: string): { ok: false; error: ApiError } => ({ ok: false, error: new ApiError('FERRY_API_MOVE_FAILED', message) });
const isRecord = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);

/** A typed error a gateway answered ({code, message}), or MOVE_FAILED when it answered something else. */
function answered(gw: string, r: { status: number; body: unknown }): { ok: false; error: ComposeError | ApiError } {
  const b = r.body;
  if (isRecord(b) && typeof b['code'] === 'string' && b['code'].startsWith('FERRY_COMPOSE_')) {
    const e = composeError(b['code'] as ComposeError['code'], '');
    e.message = String(b['message']);
    return { ok: false, error: e };
  }
  return failed(`gateway ${gw} answered ${r.status} ${JSON.stringify(b).slice(0, 300)}`);
}

class MemoryLocations implements Locations {
  readonly #m = new Map<string, PlacedObject>();
  get(so: string) {
    return this.#m.get(so);
  }
  set(so: string, at: PlacedObject | undefined): void {
    if (at === undefined) this.#m.delete(so);
    else this.#m.set(so, at);
  }
  elsewhere() {
    return [...this.#m].flatMap(([so, at]) => (at.where === 'cloud' ? [] : [{ so, ...at }]));
  }
}

export class SoMover {
  readonly #p: SoMoveParts;
  readonly #locations: Locations;
  readonly #listeners = new Set<(v: GatewayValue) => void>();
  /** The move in progress; pushes and feeds wait for it (moves are rare, one at a time is enough). */
  #turn: Promise<unknown> = Promise.resolve();

  constructor(p: SoMoveParts) {
    this.#p = p;
    this.#locations = p.locations ?? new MemoryLocations();
  }

  where(so: string): Location {
    return this.#locations.get(so)?.where ?? 'cloud';
  }

  /** The objects that moved to a gateway, with where they are and whose they are. */
  elsewhere(): (PlacedObject & { readonly so: string })[] {
    return this.#locations.elsewhere?.() ?? [];
  }

  /** Whether `caller` may act on objects hosted by gateway `gw` (they are its owner's). */
  #mayUse(caller: Caller, gw: string): boolean {
    const g = this.#p.gateway(gw);
    return g !== undefined && (caller.global === true || (g.owner !== undefined && g.owner === caller.owner));
  }

  /** Moves `so`'s connected component to `to` ('cloud' or 'gateway:<id>'). */
  move(caller: Caller, so: string, to: string): Promise<MoveResult> {
    const run = this.#turn.then(() => this.#move(caller, so, to));
    this.#turn = run.catch(() => undefined);
    return run;
  }

  async #move(caller: Caller, so: string, to: string): Promise<MoveResult> {
    const gwTo = GATEWAY.exec(to)?.[1];
    if (this.where(so) === 'cloud' && this.#p.ownerOf !== undefined) {
      const owner = this.#p.ownerOf(so);
      if (owner === undefined || (caller.global !== true && caller.owner !== owner)) return notFound(so);
    }
    if (to !== 'cloud' && gwTo === undefined) return { ok: false, error: new ApiError('FERRY_API_MOVE_TARGET', 'to must be "cloud" or "gateway:<id>"') };
    if (gwTo !== undefined && !this.#mayUse(caller, gwTo))
      return { ok: false, error: new ApiError('FERRY_API_MOVE_TARGET', `no gateway ${gwTo} of this owner`) };
    const from = this.where(so);
    const gwFrom = GATEWAY.exec(from)?.[1];
    if (gwFrom !== undefined && !this.#mayUse(caller, gwFrom)) return notFound(so);
    if (from === to) return { ok: true, value: { from, to: from, so: [] } };

    const out = gwFrom === undefined ? await this.#p.host.moveOut(caller, so) : await this.#takeFrom(gwFrom, so);
    if (!out.ok) return out;
    const snapshots = out.value;
    const back = async (why: string): Promise<MoveResult> => {
      // The target did not take them: they go back where they were, from the same snapshots.
      const r = gwFrom === undefined ? await this.#p.host.moveIn({ global: true }, snapshots) : await this.#give(gwFrom, snapshots);
      return failed(r.ok ? why : `${why}; and putting them back failed: ${r.error.message}`);
    };
    if (gwFrom !== undefined) {
      // A gateway speaks for its owner only: what it gives back is that owner's, or what the cloud gave it.
      const owner = this.#p.gateway(gwFrom)?.owner;
      if (snapshots.some((s) => (owner ?? this.#locations.get(s.so)?.owner) !== s.owner))
        return await back(`gateway ${gwFrom} gave back an object of another owner`);
    }
    const owners = new Set(snapshots.map((s) => s.owner));
    const target = gwTo === undefined ? undefined : this.#p.gateway(gwTo);
    if (target !== undefined && [...owners].some((o) => (target.owner ?? o) !== o || (caller.global !== true && o !== caller.owner)))
      return await back(`gateway ${gwTo} belongs to another owner`);
    const given = gwTo === undefined ? await this.#p.host.moveIn({ global: true }, snapshots) : await this.#give(gwTo, snapshots);
    if (!given.ok) return await back(given.error.message);
    for (const s of snapshots)
      this.#locations.set(s.so, { where: to as Location, owner: s.owner, streams: Object.keys((s.document['streams'] as object | undefined) ?? {}) });
    return { ok: true, value: { from, to: to as Location, so: snapshots.map((s) => s.so) } };
  }

  async #request(gw: string, path: string, body: unknown): Promise<{ status: number; body: unknown } | Error> {
    let last: Error = new Error('no attempt');
    for (let i = 0; i <= (this.#p.retries ?? 2); i++) {
      try {
        return await this.#p.gatewayRequest(gw, 'POST', path, body);
      } catch (e) {
        last = e as Error; // no answer: asking again is safe, both directions are idempotent
      }
    }
    return last;
  }

  /** Asks gateway `gw` for `so`'s component. */
  async #takeFrom(gw: string, so: string): Promise<Result<readonly SOSnapshot[], ComposeError | ApiError>> {
    const r = await this.#request(gw, '/api/so/move', { so });
    if (r instanceof Error) return failed(`gateway ${gw}: ${r.message}`);
    if (r.status !== 200) return answered(gw, r);
    const snapshots = isRecord(r.body) && r.body['format'] === MOVE_FORMAT ? r.body['snapshots'] : undefined;
    if (!Array.isArray(snapshots) || snapshots.length === 0 || snapshots.length > MAX_MOVE_OBJECTS)
      return failed(`gateway ${gw} answered no ${MOVE_FORMAT} with 1..${MAX_MOVE_OBJECTS} snapshots`);
    if (!snapshots.every((s) => isRecord(s) && typeof s['so'] === 'string' && typeof s['owner'] === 'string'))
      return failed(`gateway ${gw} answered snapshots without so and owner`);
    return { ok: true, value: snapshots as SOSnapshot[] };
  }

  async #give(gw: string, snapshots: readonly SOSnapshot[]): Promise<Result<void, ComposeError | ApiError>> {
    const r = await this.#request(gw, '/api/so/move', { format: MOVE_FORMAT, snapshots });
    if (r instanceof Error) return failed(`gateway ${gw}: ${r.message}`);
    return r.status === 201 ? { ok: true, value: undefined } : answered(gw, r);
  }

  /** Feeds a simple stream where its object is: the cloud's host, or its gateway over the control channel. */
  async push(caller: Caller, so: string, stream: string, update: unknown): Promise<Result<PushReport, ComposeError | ApiError>> {
    await this.#turn;
    const gw = GATEWAY.exec(this.where(so))?.[1];
    if (gw === undefined) return await this.#p.host.push(caller, so, stream, update);
    const owner = this.#locations.get(so)?.owner;
    if (caller.global !== true && caller.owner !== owner) return notFound(so);
    const r = await this.#request(gw, '/api/so/push', { so, stream, update });
    if (r instanceof Error) return failed(`gateway ${gw}: ${r.message}`);
    if (r.status !== 200) return answered(gw, r);
    const outcome = isRecord(r.body) ? r.body['outcome'] : undefined;
    // The gateway's outputs come up through its outbox (onGatewayValue), not in this answer.
    return { ok: true, value: { outcome: outcome as PushReport['outcome'], outputs: [] } };
  }

  onGatewayValue(listener: (v: GatewayValue) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /**
   * The `d` claim of an `so` message gateway `gw` sent up (verified by ingest). A value it computed goes to
   * the listeners if the object is that gateway's and of its owner; a `feed` (a reading for an object that left
   * the gateway) is pushed where the object is now, as its owner. Answers why a message was not taken.
   */
  async fromGateway(gw: string, d: unknown): Promise<string | undefined> {
    if (!isRecord(d) || typeof d['so'] !== 'string' || typeof d['stream'] !== 'string') return 'not an so message';
    const { so, stream } = d;
    const g = this.#p.gateway(gw);
    if (g === undefined) return `no gateway ${gw}`;
    if (d['kind'] === 'feed') {
      await this.#turn;
      const owner = g.owner ?? this.#locations.get(so)?.owner;
      if (owner === undefined) return `gateway ${gw} has no owner to feed ${so} as`;
      const r = await this.push({ owner }, so, stream, d['update']);
      return r.ok ? undefined : r.error.message;
    }
    const at = this.#locations.get(so);
    const value = d['value'] as StreamValue;
    if (d['kind'] !== 'update' && d['kind'] !== 'output') return 'not an so message';
    if (typeof d['owner'] !== 'string' || (g.owner ?? at?.owner) !== d['owner']) return `gateway ${gw} sent a value of another owner`;
    if (!isRecord(value) || typeof value['id'] !== 'string' || typeof value['lastUpdate'] !== 'number') return 'no value';
    const v: GatewayValue = { gateway: gw, owner: d['owner'], so, stream, kind: d['kind'], value };
    for (const l of this.#listeners) l(v);
    return undefined;
  }
}
