/**
 * @module The pool worker's entry: runs calls sent by PoolRunner with the shared execution core, over a
 * snapshot of the namespace, and ships back the result and the call's writes. Compiled modules arrive
 * once per worker (a WebAssembly.Module is structured-cloneable between threads, no recompilation).
 */
import { parentPort } from 'node:worker_threads';
import type { CompiledModule, ModuleInfo, ResultType } from '@ferry/wasm-host';
import { OverlayState } from './namespaces/overlay.ts';
import { SortedState } from './namespaces/sorted-state.ts';
import { InstanceCache } from './execute.ts';

export interface WorkerCall {
  readonly id: number;
  readonly hash: string;
  readonly module?: { readonly module: WebAssembly.Module; readonly info: ModuleInfo };
  readonly instanceKey: string;
  readonly maxPages: number;
  readonly exportName: string;
  readonly args: readonly (number | bigint)[];
  readonly resultType: ResultType;
  readonly snapshot: readonly (readonly [string, Uint8Array])[];
  readonly maxNewKeys: number;
  readonly callerId: string;
  readonly nowMs: number;
  readonly uptimeMs: number;
  readonly signSecret?: Uint8Array | undefined;
}

export type WorkerReply =
  | { readonly t: 'ready' }
  | {
      readonly t: 'done';
      readonly id: number;
      readonly ok: true;
      readonly value: number | string | null;
      readonly emits: readonly string[];
      readonly logs: readonly { level: number; text: string }[];
      readonly writes: readonly (readonly [string, Uint8Array])[];
    }
  | { readonly t: 'done'; readonly id: number; readonly ok: false; readonly code: string; readonly message: string; readonly details: readonly string[] };

const port = parentPort;
if (port !== null) {
  const cache = new InstanceCache(256);
  const modules = new Map<string, CompiledModule>();
  port.on('message', (m: WorkerCall) => {
    if (m.module !== undefined) modules.set(m.hash, m.module);
    const compiled = modules.get(m.hash);
    const reply = (r: WorkerReply): void => port.postMessage(r);
    if (compiled === undefined) {
      reply({ t: 'done', id: m.id, ok: false, code: 'FERRY_FN_MODULE_NEEDED', message: `worker lacks module ${m.hash}`, details: [] });
      return;
    }
    const overlay = new OverlayState(new SortedState(Infinity, m.snapshot), m.maxNewKeys);
    const inv = { instanceKey: m.instanceKey, compiled, maxPages: m.maxPages, exportName: m.exportName, args: m.args, resultType: m.resultType };
    void cache.run(inv, overlay, { callerId: m.callerId, nowMs: m.nowMs, uptimeMs: m.uptimeMs, signSecret: m.signSecret }).then((r) => {
      if (r.ok) reply({ t: 'done', id: m.id, ok: true, ...r.value, writes: overlay.pending() });
      else reply({ t: 'done', id: m.id, ok: false, code: r.error.code, message: r.error.message, details: r.error.details });
    });
  });
  port.postMessage({ t: 'ready' } satisfies WorkerReply);
}
