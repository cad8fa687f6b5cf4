/**
 * @module What the cloud's parts see of the composite-stream host (docs/composite-streams.md, "Hosting"):
 * feeding a simple stream, checking who may read a stream, listening to what is stored, and moving objects
 * out and in. The REST routes, the MQTT and HTTP-callback subscriptions, the device-telemetry mapping, the
 * edge <-> cloud moves and the scale-out leases all go through this one seam, so each can be written and
 * tested against it, and a host can be wrapped (a lease decides which worker computes).
 */
import type { Result } from '@ferry/base';
import type { ComposeError, PushReport, SOSnapshot, StreamValue } from '@ferry/compose';

/** Who acts on a service object. */
export interface Caller {
  /** The owner the credential belongs to; undefined for a global credential (the cloud's admin, a worker). */
  readonly owner?: string | undefined;
  /** A global credential: acts on every owner's objects. */
  readonly global?: boolean | undefined;
  /** Public token ids the caller presents (grants may name a public token instead of an owner). */
  readonly tokens?: readonly string[] | undefined;
}

/** One value the host stored: an accepted sensor update of a simple stream, or a composite's output. */
export interface HostedOutput {
  readonly owner: string;
  readonly so: string;
  readonly stream: string;
  readonly kind: 'update' | 'output';
  /** `value.id` is the idempotency key: a redelivered update or a replayed move never stores it twice. */
  readonly value: StreamValue;
}

export interface SoHosting {
  /**
   * Feeds a simple stream and propagates. Only the object's owner (or a global caller) feeds it; anyone else
   * is answered FERRY_COMPOSE_NOT_FOUND, so other owners' ids do not leak.
   */
  push(caller: Caller, so: string, stream: string, update: unknown): Promise<Result<PushReport, ComposeError>>;
  /** Whether the caller may read or subscribe to the stream: its owner, a global caller, or a live grant. */
  mayRead(caller: Caller, so: string, stream: string): Promise<boolean>;
  /** Every stored value, in propagation order, after it is stored; returns the unsubscribe. */
  onOutput(listener: (output: HostedOutput) => void): () => void;
  /**
   * Takes the connected component holding `so` out of this host (it stops computing here) and answers one
   * snapshot per object, latest values and last outputs included.
   */
  moveOut(caller: Caller, so: string): Promise<Result<readonly SOSnapshot[], ComposeError>>;
  /** Installs snapshots taken by moveOut; replaying one emits nothing twice. */
  moveIn(caller: Caller, snapshots: readonly unknown[]): Promise<Result<void, ComposeError>>;
}
