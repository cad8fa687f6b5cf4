/**
 * @module The composite-stream host as the cloud service makes it (docs/composite-streams.md "Hosting"):
 * the store and records of the running mode, the QuickJS pool (loaded at start; a 0.2.0 function run
 * before that is a runner error), the wasm runner on the function service, and the per-stream metrics.
 */
import { composeError, type ComposeStore, type JsRunner } from '@ferry/compose';
import { JsSandboxPool } from '@ferry/js-sandbox';
import type { Registry } from 'prom-client';
import type { FunctionService } from '../functions/index.ts';
import { functionFnRunner } from './fn-runner.ts';
import { ComposeHost, type ComposeHostLimits } from './host.ts';
import { sandboxJsRunner } from './js-runner.ts';
import { composeMetrics } from './metrics.ts';
import type { OutputRelay, SoRecordStore } from './records.ts';

export interface CloudComposeParts {
  readonly store: ComposeStore;
  readonly records: SoRecordStore;
  readonly relay?: OutputRelay | undefined;
  readonly shared: boolean;
  readonly functions: FunctionService;
  readonly registry: Registry;
  readonly limits?: Partial<ComposeHostLimits> | undefined;
  readonly log: (message: string) => void;
}

export interface CloudCompose {
  readonly host: ComposeHost;
  /** Loads the sandbox and installs the persisted objects. */
  start(): Promise<void>;
  close(): void;
}

export function cloudCompose(p: CloudComposeParts): CloudCompose {
  let pool: JsSandboxPool | undefined;
  let runner: JsRunner | undefined;
  const js: JsRunner = {
    run: (source, args, globals, ctx) =>
      runner?.run(source, args, globals, ctx) ?? {
        ok: false,
        error: composeError('FERRY_COMPOSE_RUNNER', 'FERRY_JS_UNAVAILABLE: the sandbox is not loaded', { so: ctx.so, stream: ctx.stream }),
      },
  };
  const host = new ComposeHost({
    store: p.store,
    records: p.records,
    js,
    fn: functionFnRunner(p.functions),
    shared: p.shared,
    limits: p.limits,
    log: p.log,
    relay: p.relay,
  });
  composeMetrics(p.registry, host);
  return {
    host,
    start: async () => {
      pool = await JsSandboxPool.create();
      runner = sandboxJsRunner(pool);
      await host.start();
    },
    close: () => pool?.close(),
  };
}
