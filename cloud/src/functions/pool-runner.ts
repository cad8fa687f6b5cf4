/**
 * @module The sandboxed runner: a pool of worker PROCESSES (node:child_process fork), each running one call
 * at a time with the shared execution core. Processes, not worker_threads: threads share their process, and
 * a module that exhausts V8's memory or the native stack in a thread aborts the whole cloud (broker, ingest,
 * HTTP). Each worker has its own V8 heap cap (--max-old-space-size) and stack size (--stack-size); the worst
 * a module can do is lose its own worker. A watchdog per call kills the worker (SIGKILL) at the CPU deadline
 * (FERRY_FN_TIMEOUT); a worker that dies fails only its in-flight call (heap exhausted: FERRY_FN_MEMORY_EXCEEDED,
 * any other death: FERRY_FN_TRAP); either way a fresh worker replaces it and queued calls wait for it.
 *
 * Calls are queued per owner and shared fairly (fair-queue.ts): a cap on each owner's calls in flight, the
 * next call from the owner with the fewest running, and a CPU budget per owner. The namespace goes to the
 * worker as the changes since it last saw it and the call's writes come back, committed here, so a killed
 * call changes nothing; at most one call per namespace runs at a time, which keeps the in-process runner's
 * semantics (calls on a namespace apply in order).
 *
 * The pool is written here over child_process rather than taken from a pool library: what it needs beyond
 * "run a task in a process" (kill on a deadline and respawn, per-owner fair queueing, per-worker caches the
 * parent keeps in step, per-namespace ordering) is most of the code either way.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { FnError, fnFail, fnOk, type FnErrorCode, type FnResult, type RunOutput } from '@ferry/wasm-host';
import { commitWrites } from './namespaces/overlay.ts';
import { FairQueue, type FairnessOptions } from './fair-queue.ts';
import { WorkerCaches, type WorkerCacheLimits, type WorkerCall, type WorkerConfig, type WorkerReply } from './pool-protocol.ts';
import { systemClock, type Clock, type RunRequest, type Runner } from './runner.ts';

export interface PoolOptions {
  /** Worker processes (default 2). */
  readonly size?: number;
  /** CPU deadline per call in ms, instantiation included (default 1000). */
  readonly timeoutMs?: number;
  /** Calls waiting, all owners together, before FERRY_FN_BUSY (default 10 000); per owner: fairness.maxQueued. */
  readonly maxQueue?: number;
  readonly clock?: Clock;
  /** V8 old-space cap per worker, MiB (default 128; --max-old-space-size). Wasm memory is bounded by the module's own maximum instead. */
  readonly heapMb?: number;
  /** V8 stack size per worker, KiB (default 984, Node's own; --stack-size). Keep it below the OS thread stack (ulimit -s). */
  readonly stackKb?: number;
  /** More node flags for the workers (tests: a stack size beyond the real stack, to make a stack bomb crash its worker). */
  readonly execArgv?: readonly string[];
  /**
   * Keep one worker booted and idle (default true), so a killed or dead worker is replaced at once rather
   * than after a process start (hundreds of ms with the TypeScript loader).
   */
  readonly standby?: boolean;
  /** Instances each worker keeps (default 64). */
  readonly maxInstances?: number;
  /** Modules and namespaces each worker keeps. */
  readonly caches?: WorkerCacheLimits;
  /** Per-owner concurrency cap, queue bound and CPU budget (slow calls: a tenth of the deadline, by default). */
  readonly fairness?: FairnessOptions;
  /** Told each time a call starts, with how many calls of other owners it waited behind (metrics, tests). */
  readonly onDispatch?: (e: { readonly owner: string; readonly behind: number }) => void;
  /** The worker entry (default ./pool-worker.ts beside this file; a build points at its .js). */
  readonly workerUrl?: URL;
}

interface Job {
  readonly owner: string;
  readonly namespace: string;
  readonly req: RunRequest;
  readonly resolve: (r: FnResult<RunOutput>) => void;
}

interface Slot {
  readonly child: ChildProcess;
  /** Set once the slot was replaced: late events of its process are ignored. */
  dead: boolean;
  ready: boolean;
  job: (Job & { readonly id: number; readonly timer: NodeJS.Timeout }) | undefined;
  readonly caches: WorkerCaches;
  /** The end of the worker's stderr: how it died (V8 prints "heap out of memory" before aborting). */
  stderr: string;
  readonly exited: Promise<void>;
}

const MAX_BOOT_FAILURES = 3;
const STDERR_TAIL = 8192;
const OUT_OF_HEAP = /out of memory|allocation failed/i;
const WORKER_URL = new URL('./pool-worker.ts', import.meta.url);

const spaceOf = (j: { readonly owner: string; readonly namespace: string }): string => `${j.owner}\u0000${j.namespace}`;

/**
 * Node 20 cannot load .ts itself, so a .ts worker is started with tsx's loader (--import, resolved here,
 * where tsx is a dependency); a build of .js files starts the worker directly.
 */
function spawnWorker(url: URL, flags: readonly string[], config: WorkerConfig): ChildProcess {
  const execArgv = url.pathname.endsWith('.ts') ? [`--import=${import.meta.resolve('tsx')}`, ...flags] : [...flags];
  return fork(fileURLToPath(url), [JSON.stringify(config)], { execArgv, serialization: 'advanced', stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
}

export class PoolRunner implements Runner {
  private readonly slots: Slot[] = [];
  /** The booted, idle worker that replaces the next one lost. */
  private spare: Slot | undefined;
  private readonly standby: boolean;
  private readonly fair: FairQueue<Job>;
  private readonly timeoutMs: number;
  private readonly maxQueue: number;
  private readonly clock: Clock;
  private readonly flags: readonly string[];
  private readonly config: WorkerConfig;
  private readonly cacheLimits: WorkerCacheLimits | undefined;
  private readonly onDispatch: PoolOptions['onDispatch'];
  private readonly workerUrl: URL;
  private nextId = 1;
  private closed = false;
  /** Workers that died before they were ready, in a row; past MAX_BOOT_FAILURES the pool gives up. */
  private bootFailures = 0;
  private broken: string | undefined;
  /** Workers replaced after a timeout or a death (for metrics and tests). */
  restarts = 0;

  constructor(opts: PoolOptions = {}) {
    this.timeoutMs = opts.timeoutMs ?? 1000;
    this.maxQueue = opts.maxQueue ?? 10_000;
    this.clock = opts.clock ?? systemClock();
    this.flags = [`--max-old-space-size=${opts.heapMb ?? 128}`, `--stack-size=${opts.stackKb ?? 984}`, ...(opts.execArgv ?? [])];
    this.config = { maxInstances: opts.maxInstances ?? 64 };
    this.cacheLimits = opts.caches;
    const size = opts.size ?? 2;
    this.fair = new FairQueue({ workers: size, slowMs: this.timeoutMs / 10, ...opts.fairness });
    this.onDispatch = opts.onDispatch;
    this.workerUrl = opts.workerUrl ?? WORKER_URL;
    this.standby = opts.standby ?? true;
    for (let i = 0; i < size; i++) this.slots.push(this.start());
    if (this.standby) this.spare = this.start();
  }

  /** Resolves once every worker, the standby included, has loaded (the first calls otherwise wait for it). */
  async ready(): Promise<void> {
    const waiting = (): boolean => this.slots.some((s) => !s.ready) || this.spare?.ready === false;
    while (!this.closed && this.broken === undefined && waiting()) await new Promise((r) => setTimeout(r, 5));
  }

  run(req: RunRequest): Promise<FnResult<RunOutput>> {
    if (this.closed) return Promise.resolve(fnFail('FERRY_FN_BUSY', 'the runner is closed'));
    if (this.broken !== undefined) return Promise.resolve(fnFail('FERRY_FN_BUSY', this.broken));
    if (this.fair.size >= this.maxQueue) return Promise.resolve(fnFail('FERRY_FN_BUSY', `${this.fair.size} calls queued`));
    return new Promise((resolve) => {
      const queued = this.fair.push({ owner: req.owner, namespace: req.namespace, req, resolve });
      if (!queued.ok) resolve(queued);
      else this.pump();
    });
  }

  /** The owner's CPU budget left, ms (negative: in debt until it refills). */
  budgetMs(owner: string): number {
    return this.fair.remainingMs(owner);
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const j of this.fair.drain()) j.resolve(fnFail('FERRY_FN_BUSY', 'the runner is closed'));
    const all = this.spare === undefined ? this.slots : [...this.slots, this.spare];
    await Promise.all(
      all.map((s) => {
        if (s.job !== undefined) this.finish(s, fnFail('FERRY_FN_BUSY', 'the runner is closed'), 0);
        s.dead = true;
        s.child.kill('SIGKILL');
        return s.exited;
      }),
    );
  }

  private start(): Slot {
    const child = spawnWorker(this.workerUrl, this.flags, this.config);
    const exited = new Promise<void>((resolve) => child.once('close', () => resolve()));
    const slot: Slot = { child, dead: false, ready: false, job: undefined, caches: new WorkerCaches(this.cacheLimits), stderr: '', exited };
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (d: string) => {
      slot.stderr = (slot.stderr + d).slice(-STDERR_TAIL);
    });
    child.on('message', (m: WorkerReply) => {
      if (slot.dead) return;
      if (m.t === 'ready') {
        slot.ready = true;
        this.bootFailures = 0;
      } else if (slot.job?.id === m.id) this.finish(slot, this.outcome(slot, m), m.ms);
      this.pump();
    });
    // 'close' comes after the process exited and its stderr was read to the end.
    child.once('close', (code, signal) => {
      if (slot.dead || this.closed) return;
      const how = signal ?? `exit code ${String(code)}`;
      const outOfHeap = OUT_OF_HEAP.test(slot.stderr);
      const fnCode: FnErrorCode = outOfHeap ? 'FERRY_FN_MEMORY_EXCEEDED' : 'FERRY_FN_TRAP';
      this.replace(slot, fnFail(fnCode, `the worker process ${outOfHeap ? 'ran out of heap' : 'died'} (${how}) and was replaced`));
    });
    child.on('error', (e) => {
      if (!slot.dead && !this.closed) this.replace(slot, fnFail('FERRY_FN_TRAP', `the worker process failed: ${e.message}`));
    });
    return slot;
  }

  /**
   * Hands queued calls to idle workers: fair-queue.ts picks which (owner caps, fewest running first, CPU
   * budget), and at most one call per namespace runs at a time: each call works on the namespace as it was
   * sent, so two concurrent calls on one namespace would lose each other's writes.
   */
  private pump(): void {
    for (const { job, result } of this.fair.dropOverBudget()) job.resolve(result);
    const busy = new Set(this.slots.flatMap((s) => (s.job === undefined ? [] : [spaceOf(s.job)])));
    for (const slot of this.slots) {
      if (!slot.ready || slot.dead || slot.job !== undefined) continue;
      const taken = this.fair.take((j) => busy.has(spaceOf(j)));
      if (taken === undefined) return;
      busy.add(spaceOf(taken.job));
      this.onDispatch?.({ owner: taken.job.owner, behind: taken.behind });
      this.dispatch(slot, taken.job);
    }
  }

  private dispatch(slot: Slot, job: Job): void {
    const r = job.req;
    const id = this.nextId++;
    const c = slot.caches;
    const module = c.needsModule(r.hash, r.bytes.length) ? { bytes: r.bytes, info: r.compiled.info } : undefined;
    const state = c.stateFor(spaceOf(job), r.state);
    const msg: WorkerCall = {
      id,
      hash: r.hash,
      module,
      forget: c.takeForget(),
      space: spaceOf(job),
      state,
      instanceKey: r.instanceKey,
      maxPages: r.maxPages,
      exportName: r.exportName,
      args: r.args,
      resultType: r.resultType,
      maxNewKeys: r.maxNewKeys,
      callerId: r.callerId,
      nowMs: this.clock.nowMs(),
      uptimeMs: this.clock.uptimeMs(),
      signSecret: r.signSecret,
    };
    // The watchdog: wall time from dispatch on a worker that runs nothing else is the call's CPU time.
    const timer = setTimeout(
      () => this.replace(slot, fnFail('FERRY_FN_TIMEOUT', `no reply within ${this.timeoutMs} ms; the worker process was killed and replaced`)),
      this.timeoutMs,
    );
    slot.job = { ...job, id, timer };
    slot.child.send(msg, (e) => {
      if (e !== null && !slot.dead && !this.closed) this.replace(slot, fnFail('FERRY_FN_TRAP', `the call could not reach its worker: ${e.message}`));
    });
  }

  private outcome(slot: Slot, m: WorkerReply & { t: 'done' }): FnResult<RunOutput> {
    if (!m.ok) {
      const code = m.code as FnErrorCode;
      return { ok: false, error: new FnError(code, m.message.startsWith(`${code}: `) ? m.message.slice(code.length + 2) : m.message, m.details) };
    }
    const job = slot.job!;
    try {
      commitWrites(job.req.state, m.writes); // in an IPC message listener: a throw here would end the process
    } catch (e) {
      slot.caches.drop(spaceOf(job));
      return fnFail('FERRY_FN_UNAVAILABLE', `the call's state writes were not committed: ${e instanceof Error ? e.message : String(e)}`);
    }
    slot.caches.committed(spaceOf(job), m.writes);
    return fnOk({ value: m.value, emits: m.emits, logs: m.logs });
  }

  /** Ends the in-flight call with `r`, charging `ms` of run time to its owner. */
  private finish(slot: Slot, r: FnResult<RunOutput>, ms: number): void {
    const job = slot.job;
    if (job === undefined) return;
    clearTimeout(job.timer);
    slot.job = undefined;
    this.fair.finished(job.owner, ms);
    job.resolve(r);
  }

  /**
   * Fails the in-flight call, kills the worker and starts a fresh one in its place. The call is charged the
   * whole deadline: a worker killed or lost costs the pool more than the call's own run time.
   */
  private replace(slot: Slot, r: FnResult<RunOutput>): void {
    if (slot.dead) return;
    slot.dead = true;
    this.finish(slot, r, this.timeoutMs);
    // A worker that cannot even start (missing loader, bad build) would be respawned in a tight loop.
    if (!slot.ready && ++this.bootFailures >= MAX_BOOT_FAILURES && this.broken === undefined) {
      this.broken = `workers cannot start: ${r.ok ? '' : r.error.message}${slot.stderr === '' ? '' : `: ${slot.stderr.trim().split('\n').slice(-1)[0]}`}`;
      for (const j of this.fair.drain()) j.resolve(fnFail('FERRY_FN_BUSY', this.broken));
    }
    if (slot === this.spare) this.spare = undefined;
    else if (!this.closed && this.broken === undefined) {
      const i = this.slots.indexOf(slot);
      if (i >= 0) {
        this.slots[i] = this.spare ?? this.start();
        this.spare = undefined;
      }
      this.restarts++;
    }
    if (this.standby && this.spare === undefined && !this.closed && this.broken === undefined) this.spare = this.start();
    slot.child.kill('SIGKILL');
    this.pump();
  }
}
