/**
 * @module The sandboxed runner: a pool of worker_threads, each running calls with the shared execution
 * core, and a watchdog per call. A call past its deadline gets FERRY_FN_TIMEOUT and its worker is
 * terminated (Worker.terminate stops even a tight wasm loop: V8 TerminateExecution) and replaced; the
 * other workers keep serving, queued calls wait for the replacement. A worker that dies (heap limit via
 * resourceLimits, crash) fails only its in-flight call. Namespace state is sent as a snapshot and the
 * call's writes come back and are committed on the service thread, so a killed call changes nothing.
 */
import { Worker } from 'node:worker_threads';
import { FnError, fnFail, fnOk, type FnErrorCode, type FnResult, type RunOutput } from '@ferry/wasm-host';
import { snapshotOf } from './namespaces/sorted-state.ts';
import { commitWrites } from './namespaces/overlay.ts';
import type { WorkerCall, WorkerReply } from './pool-worker.ts';
import { systemClock, type Clock, type RunRequest, type Runner } from './runner.ts';

export interface PoolOptions {
  /** Workers (default 2). */
  readonly size?: number;
  /** CPU deadline per call in ms, instantiation included (default 1000). */
  readonly timeoutMs?: number;
  /** Calls waiting for a worker before FERRY_FN_BUSY (default 10 000). */
  readonly maxQueue?: number;
  readonly clock?: Clock;
  /** V8 heap limits per worker; wasm memory is bounded by the module's own maximum instead. */
  readonly resourceLimits?: { maxOldGenerationSizeMb?: number; maxYoungGenerationSizeMb?: number };
  /** The worker entry (default ./pool-worker.ts beside this file; a build points at its .js). */
  readonly workerUrl?: URL;
}

interface Job {
  readonly req: RunRequest;
  readonly resolve: (r: FnResult<RunOutput>) => void;
}

interface Slot {
  readonly worker: Worker;
  /** Set once the slot was replaced: late events of its worker are ignored. */
  dead: boolean;
  ready: boolean;
  job: (Job & { readonly id: number; readonly timer: NodeJS.Timeout }) | undefined;
  /** Hashes this worker has received (it keeps every module it was sent). */
  readonly modules: Set<string>;
}

/** `${owner}\0${namespace}` out of the instance key `${owner}\0${namespace}\0${hash}`. */
const namespaceOf = (r: RunRequest): string => r.instanceKey.slice(0, r.instanceKey.lastIndexOf('\u0000'));

const MAX_BOOT_FAILURES = 3;

const WORKER_URL = new URL('./pool-worker.ts', import.meta.url);

/**
 * Node 20 cannot load .ts itself and a worker does not inherit the parent's loader hooks, so a .ts
 * worker is started through tsx's register API (the repo runs TypeScript with tsx); a build of .js
 * files starts the worker directly.
 */
function spawn(url: URL, resourceLimits: PoolOptions['resourceLimits']): Worker {
  const opts = { resourceLimits: resourceLimits ?? { maxOldGenerationSizeMb: 128 } };
  if (!url.pathname.endsWith('.ts')) return new Worker(url, opts);
  // Resolved here, not in the eval'd worker, whose bare specifiers resolve from the working directory.
  const tsx = import.meta.resolve('tsx/esm/api');
  const boot = `import(${JSON.stringify(tsx)}).then((m) => { m.register(); return import(${JSON.stringify(url.href)}); });`;
  return new Worker(boot, { ...opts, eval: true });
}

export class PoolRunner implements Runner {
  private readonly slots: Slot[] = [];
  private readonly queue: Job[] = [];
  private readonly timeoutMs: number;
  private readonly maxQueue: number;
  private readonly clock: Clock;
  private readonly resourceLimits: PoolOptions['resourceLimits'];
  private readonly workerUrl: URL;
  private nextId = 1;
  private closed = false;
  /** Workers that died before they were ready, in a row; past MAX_BOOT_FAILURES the pool gives up. */
  private bootFailures = 0;
  private broken: string | undefined;
  /** Workers replaced after a timeout or a crash (for metrics and tests). */
  restarts = 0;

  constructor(opts: PoolOptions = {}) {
    this.timeoutMs = opts.timeoutMs ?? 1000;
    this.maxQueue = opts.maxQueue ?? 10_000;
    this.clock = opts.clock ?? systemClock();
    this.resourceLimits = opts.resourceLimits;
    this.workerUrl = opts.workerUrl ?? WORKER_URL;
    for (let i = 0; i < (opts.size ?? 2); i++) this.slots.push(this.start());
  }

  /** Resolves once every worker has loaded (the first calls otherwise wait for it). */
  async ready(): Promise<void> {
    while (!this.closed && this.broken === undefined && this.slots.some((s) => !s.ready)) await new Promise((r) => setTimeout(r, 5));
  }

  run(req: RunRequest): Promise<FnResult<RunOutput>> {
    if (this.closed) return Promise.resolve(fnFail('FERRY_FN_BUSY', 'the runner is closed'));
    if (this.broken !== undefined) return Promise.resolve(fnFail('FERRY_FN_BUSY', this.broken));
    if (this.queue.length >= this.maxQueue) return Promise.resolve(fnFail('FERRY_FN_BUSY', `${this.queue.length} calls queued`));
    return new Promise((resolve) => {
      this.queue.push({ req, resolve });
      this.pump();
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const j of this.queue.splice(0)) j.resolve(fnFail('FERRY_FN_BUSY', 'the runner is closed'));
    await Promise.all(
      this.slots.map((s) => {
        if (s.job !== undefined) this.finish(s, fnFail('FERRY_FN_BUSY', 'the runner is closed'));
        return s.worker.terminate();
      }),
    );
  }

  private start(): Slot {
    const slot: Slot = { worker: spawn(this.workerUrl, this.resourceLimits), dead: false, ready: false, job: undefined, modules: new Set() };
    const w = slot.worker;
    w.on('message', (m: WorkerReply) => {
      if (slot.dead) return;
      if (m.t === 'ready') {
        slot.ready = true;
        this.bootFailures = 0;
      } else if (slot.job?.id === m.id) this.finish(slot, this.outcome(slot.job.req, m));
      this.pump();
    });
    w.on('error', (e: Error & { code?: string }) => {
      if (slot.dead) return;
      const code: FnErrorCode = e.code === 'ERR_WORKER_OUT_OF_MEMORY' ? 'FERRY_FN_MEMORY_EXCEEDED' : 'FERRY_FN_TRAP';
      this.replace(slot, fnFail(code, `worker died: ${e.message}`));
    });
    w.on('exit', () => {
      if (!slot.dead && !this.closed) this.replace(slot, fnFail('FERRY_FN_TRAP', 'worker exited'));
    });
    return slot;
  }

  /**
   * Hands queued calls to idle workers, at most one call per namespace at a time: each call works on a
   * snapshot, so two concurrent calls on one namespace would lose each other's writes. Serialising per
   * namespace gives the pool the in-process runner's semantics (calls on a namespace apply in order).
   */
  private pump(): void {
    const busy = new Set(this.slots.flatMap((s) => (s.job === undefined ? [] : [namespaceOf(s.job.req)])));
    for (const slot of this.slots) {
      if (!slot.ready || slot.job !== undefined) continue;
      const i = this.queue.findIndex((j) => !busy.has(namespaceOf(j.req)));
      if (i < 0) return;
      const [job] = this.queue.splice(i, 1);
      busy.add(namespaceOf(job!.req));
      this.dispatch(slot, job!);
    }
  }

  private dispatch(slot: Slot, job: Job): void {
    const r = job.req;
    const id = this.nextId++;
    const send = !slot.modules.has(r.hash);
    const msg: WorkerCall = {
      id,
      hash: r.hash,
      instanceKey: r.instanceKey,
      maxPages: r.maxPages,
      exportName: r.exportName,
      args: r.args,
      resultType: r.resultType,
      snapshot: snapshotOf(r.state),
      maxNewKeys: r.maxNewKeys,
      callerId: r.callerId,
      nowMs: this.clock.nowMs(),
      uptimeMs: this.clock.uptimeMs(),
      signSecret: r.signSecret,
      ...(send && { module: { module: r.compiled.module, info: r.compiled.info } }),
    };
    slot.modules.add(r.hash);
    // The watchdog: wall time from dispatch to reply on an otherwise idle thread is the call's CPU time.
    const timer = setTimeout(() => this.replace(slot, fnFail('FERRY_FN_TIMEOUT', `no reply within ${this.timeoutMs} ms; worker replaced`)), this.timeoutMs);
    slot.job = { ...job, id, timer };
    slot.worker.postMessage(msg);
  }

  private outcome(req: RunRequest, m: WorkerReply & { t: 'done' }): FnResult<RunOutput> {
    if (!m.ok) {
      const code = m.code as FnErrorCode;
      return { ok: false, error: new FnError(code, m.message.startsWith(`${code}: `) ? m.message.slice(code.length + 2) : m.message, m.details) };
    }
    try {
      commitWrites(req.state, m.writes); // in a worker's message listener: a throw here would end the process
    } catch (e) {
      return fnFail('FERRY_FN_UNAVAILABLE', `the call's state writes were not committed: ${e instanceof Error ? e.message : String(e)}`);
    }
    return fnOk({ value: m.value, emits: m.emits, logs: m.logs });
  }

  private finish(slot: Slot, r: FnResult<RunOutput>): void {
    const job = slot.job;
    if (job === undefined) return;
    clearTimeout(job.timer);
    slot.job = undefined;
    job.resolve(r);
  }

  /** Fails the in-flight call, terminates the worker and starts a fresh one in its place. */
  private replace(slot: Slot, r: FnResult<RunOutput>): void {
    if (slot.dead) return;
    slot.dead = true;
    this.finish(slot, r);
    const old = slot.worker;
    // A worker that cannot even start (missing loader, bad build) would be respawned in a tight loop.
    if (!slot.ready && ++this.bootFailures >= MAX_BOOT_FAILURES && this.broken === undefined) {
      this.broken = `workers cannot start: ${r.ok ? '' : r.error.message}`;
      for (const j of this.queue.splice(0)) j.resolve(fnFail('FERRY_FN_BUSY', this.broken));
    }
    if (!this.closed && this.broken === undefined) {
      const fresh = this.start();
      const i = this.slots.indexOf(slot);
      if (i >= 0) this.slots[i] = fresh;
      this.restarts++;
    }
    void old.terminate();
    this.pump();
  }
}
