/**
 * @module The in-process runner: calls run on the service's own thread against cached instances, for
 * the `>= 100k calls/s in-process` goal. It has NO preemption: a function that loops forever blocks the
 * service. Use it only for trusted or white-listed modules whose owners you trust (or, later, with an
 * instruction budget injected at upload); untrusted code goes to the PoolRunner.
 */
import { OverlayState } from './namespaces/overlay.ts';
import type { FnResult, RunOutput } from '@ferry/wasm-host';
import { InstanceCache } from './execute.ts';
import { contextOf, systemClock, type Clock, type RunRequest, type Runner } from './runner.ts';

export class InProcessRunner implements Runner {
  private readonly cache: InstanceCache;
  private readonly clock: Clock;

  constructor(opts: { clock?: Clock; maxInstances?: number } = {}) {
    this.clock = opts.clock ?? systemClock();
    this.cache = new InstanceCache(opts.maxInstances);
  }

  async run(req: RunRequest): Promise<FnResult<RunOutput>> {
    const overlay = new OverlayState(req.state, req.maxNewKeys);
    return this.cache.run(req, overlay, contextOf(req, this.clock), () => overlay.commit());
  }

  async close(): Promise<void> {}
}
