/**
 * @module The runner port: where a call executes. Two implementations share it and one test suite
 * (runner.case.ts): InProcessRunner (the fast path, no preemption) and PoolRunner (child processes with a
 * CPU watchdog and fair queueing between owners). Both read the namespace through a write overlay and
 * commit only on success.
 */
import type { CallContext, FnResult, Invocation, KeyValueState, RunOutput } from '@ferry/wasm-host';

export interface Clock {
  /** Wall clock, Unix ms (clock.now_ms). */
  nowMs(): number;
  /** Monotonic ms since the service started (clock.uptime_ms). */
  uptimeMs(): number;
}

export const systemClock = (): Clock => {
  const t0 = performance.now();
  return { nowMs: () => Date.now(), uptimeMs: () => performance.now() - t0 };
};

export interface RunRequest extends Invocation {
  readonly hash: string;
  /** The module's bytes: a runner in another process compiles them there (a WebAssembly.Module does not cross processes). */
  readonly bytes: Uint8Array;
  /** Whose call it is: the pool's concurrency cap, fair queue and CPU budget are per owner. */
  readonly owner: string;
  readonly namespace: string;
  /** The namespace's live state; the runner reads it at call start and writes to it only on success. */
  readonly state: KeyValueState;
  /** New keys the call may add before state.set returns QUOTA_EXCEEDED. */
  readonly maxNewKeys: number;
  readonly callerId: string;
  readonly signSecret?: Uint8Array | undefined;
}

export interface Runner {
  /** Never rejects: every failure is a typed FnError. */
  run(req: RunRequest): Promise<FnResult<RunOutput>>;
  close(): Promise<void>;
}

export const contextOf = (req: RunRequest, clock: Clock): CallContext => ({
  callerId: req.callerId,
  nowMs: clock.nowMs(),
  uptimeMs: clock.uptimeMs(),
  signSecret: req.signSecret,
});
