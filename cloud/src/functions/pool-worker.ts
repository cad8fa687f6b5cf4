/**
 * @module The entry of a pool worker process: runs the calls PoolRunner sends over the IPC channel, one at
 * a time, with the shared execution core, and replies with the result, the call's writes and its run time.
 * It keeps what the parent sent it (compiled modules, each namespace's state as last seen) until the
 * parent says to forget it, so a warm call carries only its arguments and the state that changed. Nothing
 * here guards against the module: a module that exhausts this process's heap or stack, or never returns,
 * costs this process only; the parent kills and replaces it.
 */
import type { CompiledModule } from '@ferry/wasm-host';
import { OverlayState } from './namespaces/overlay.ts';
import { SortedState } from './namespaces/sorted-state.ts';
import { InstanceCache } from './execute.ts';
import type { StateDelta, WorkerCall, WorkerConfig, WorkerReply } from './pool-protocol.ts';

const config = JSON.parse(process.argv[2] ?? '{}') as Partial<WorkerConfig>;
const cache = new InstanceCache(config.maxInstances ?? 64);
const modules = new Map<string, CompiledModule>();
const spaces = new Map<string, SortedState>();
const send = (r: WorkerReply): void => {
  process.send?.(r);
};

function stateOf(space: string, d: StateDelta): SortedState {
  let s = d.full ? undefined : spaces.get(space);
  if (s === undefined) s = new SortedState(Infinity);
  else if (d.del.length > 0) {
    const gone = new Set(d.del);
    s = new SortedState(
      Infinity,
      s.entries().filter(([k]) => !gone.has(k)),
    );
  }
  for (const [k, v] of d.set) s.set(k, v);
  spaces.set(space, s);
  return s;
}

async function run(m: WorkerCall): Promise<WorkerReply> {
  const t0 = performance.now();
  const ms = (): number => performance.now() - t0;
  for (const h of m.forget?.modules ?? []) modules.delete(h);
  for (const s of m.forget?.spaces ?? []) spaces.delete(s);
  if (m.module !== undefined) modules.set(m.hash, { module: await WebAssembly.compile(new Uint8Array(m.module.bytes)), info: m.module.info });
  const compiled = modules.get(m.hash);
  if (compiled === undefined)
    return { t: 'done', id: m.id, ms: ms(), ok: false, code: 'FERRY_FN_UNAVAILABLE', message: `the worker lacks module ${m.hash}`, details: [] };
  const base = stateOf(m.space, m.state);
  const overlay = new OverlayState(base, m.maxNewKeys);
  const inv = { instanceKey: m.instanceKey, compiled, maxPages: m.maxPages, exportName: m.exportName, args: m.args, resultType: m.resultType };
  const r = await cache.run(inv, overlay, { callerId: m.callerId, nowMs: m.nowMs, uptimeMs: m.uptimeMs, signSecret: m.signSecret });
  if (!r.ok) return { t: 'done', id: m.id, ms: ms(), ok: false, code: r.error.code, message: r.error.message, details: r.error.details };
  const writes = overlay.pending();
  overlay.commit(); // this worker's copy now matches what the parent commits
  return { t: 'done', id: m.id, ms: ms(), ok: true, ...r.value, writes };
}

if (process.send !== undefined) {
  process.on('message', (m: WorkerCall) => {
    run(m).then(send, (e: unknown) =>
      send({ t: 'done', id: m.id, ms: 0, ok: false, code: 'FERRY_FN_TRAP', message: e instanceof Error ? e.message : String(e), details: [] }),
    );
  });
  // The parent is gone (or closed the channel): nothing will ever be asked of this process again.
  process.on('disconnect', () => process.exit(0));
  send({ t: 'ready' });
}
