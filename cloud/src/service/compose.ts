/**
 * @module The composite-stream host as the cloud service makes it (docs/composite-streams.md "Hosting"):
 * the store and records of the running mode, the QuickJS pool (loaded at start; a 0.2.0 function run
 * before that is a runner error), the wasm runner on the function service, and the per-stream metrics.
 */
import { composeError, type ComposeStore, type JsRunner } from '@ferry/compose';
import { JsSandboxPool } from '@ferry/js-sandbox';
import type { Registry } from 'prom-client';
import type { FunctionService } from '../functions/index.ts';
import { callbackSealer } from '../compose/callback-store.ts';
import type { Redis } from 'ioredis';
import type { HostedOutput, SoHosting } from '../compose/hosting.ts';
import { LeasedHosting } from '../compose/scale-out/leases.ts';
import type { WaveBuffer } from '../compose/scale-out/wave-store.ts';
import { type CommandTriggerParts, soCommandTrigger, type TriggerCounters } from '../compose/command-trigger.ts';
import { composeFlows, type FlowParts, type Flows, withGatewayValues } from '../compose/flows.ts';
import { functionFnRunner } from '../compose/fn-runner.ts';
import { SoMover, type SoMoveParts } from '../compose/move.ts';
import { ComposeHost, type ComposeHostLimits } from '../compose/host.ts';
import { sandboxJsRunner } from '../compose/js-runner.ts';
import { composeMetrics } from '../compose/metrics.ts';
import type { OutputRelay, SoRecordStore } from '../compose/records.ts';

export interface CloudComposeParts {
  readonly store: ComposeStore;
  /** Writes outside any wave (scale-out; `store` itself embedded). */
  readonly direct?: ComposeStore | undefined;
  readonly records: SoRecordStore;
  readonly relay?: OutputRelay | undefined;
  readonly shared: boolean;
  readonly functions: FunctionService;
  readonly registry: Registry;
  readonly prefix: string;
  /** Seals HTTP-callback secrets at rest. */
  readonly masterKey: Uint8Array;
  readonly limits?: Partial<ComposeHostLimits> | undefined;
  readonly log: (message: string) => void;
  /** Moves: a request to a gateway's API over its control channel, and a gateway's record (compose/move.ts). */
  readonly gatewayRequest: SoMoveParts['gatewayRequest'];
  readonly gateway: SoMoveParts['gateway'];
  /** Where moved objects went (cloud.db, so it outlives a restart). */
  readonly locations?: SoMoveParts['locations'];
  /** Scale-out: components leased to one worker at a time, their waves committed through `buffer`. */
  readonly lease?: { readonly redis: Redis; readonly buffer: WaveBuffer; readonly worker: string } | undefined;
}

/** What the flows need besides the host and what the parts already give (compose/flows.ts FlowParts). */
export type FlowWiring = Omit<FlowParts, 'hosting' | 'prefix' | 'registry' | 'log'>;

export interface CloudCompose {
  readonly host: ComposeHost;
  /**
   * What feeds and moves go through: the host itself embedded; in scale-out the lease (LeasedHosting) over
   * it from start(), so each component computes on one worker, and listeners hear what this worker committed.
   */
  readonly hosting: SoHosting;
  /** Moves components between the cloud and gateways, and feeds an object wherever it is. */
  readonly mover: SoMover;
  /** Starts the MQTT, HTTP-callback and telemetry flows on the host, hearing the values of moved objects too. */
  flows(w: FlowWiring): Flows;
  /** Sends the commands objects' streams declare (compose/command-trigger.ts), until close(). */
  commandTrigger(p: Pick<CommandTriggerParts, 'deviceOwner' | 'enqueue'>): { readonly counters: TriggerCounters };
  /** Loads the sandbox and installs the persisted objects. */
  start(): Promise<void>;
  close(): Promise<void>;
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
  // The lease starts with start(): a worker must not run another's requests before its sandbox is loaded.
  let leased: LeasedHosting | undefined;
  const listeners = new Set<(o: HostedOutput) => void>();
  const tell = (o: HostedOutput): void => {
    for (const l of listeners) l(o);
  };
  if (p.lease === undefined) host.onOutput(tell);
  const hosting: SoHosting = {
    push: (...a) => (leased ?? host).push(...a),
    mayRead: (...a) => host.mayRead(...a),
    moveOut: (...a) => (leased ?? host).moveOut(...a),
    moveIn: (...a) => (leased ?? host).moveIn(...a),
    onOutput: (l) => {
      listeners.add(l);
      return () => listeners.delete(l);
    },
  };
  const mover = new SoMover({
    host: hosting,
    gatewayRequest: p.gatewayRequest,
    gateway: p.gateway,
    ownerOf: (so) => host.installed.get(so)?.owner,
    ...(p.locations !== undefined && { locations: p.locations }),
  });
  // What a moved object computes on its gateway joins its history here (each value once, by its id), so the
  // history has no hole once it comes back; its earlier history stayed (host.ts moveOut keeps the values).
  mover.onGatewayValue((v) => {
    Promise.resolve((p.direct ?? p.store).append(`${v.so}/${v.stream}`, v.value)).catch((e: unknown) =>
      p.log(`compose: a value of ${v.so}/${v.stream} from ${v.gateway} not kept: ${e instanceof Error ? e.message : String(e)}`),
    );
  });
  let trigger: { stop(): void } | undefined;
  return {
    host,
    hosting,
    mover,
    commandTrigger: (t) => {
      trigger?.stop();
      const made = soCommandTrigger({ ...t, hosting, objectOf: (so) => host.installed.get(so), log: p.log });
      trigger = made;
      return made;
    },
    flows: (w) =>
      composeFlows({
        ...w,
        prefix: p.prefix,
        registry: p.registry,
        log: p.log,
        sealer: callbackSealer(p.masterKey),
        hosting: withGatewayValues(hosting, mover),
      }),
    start: async () => {
      pool = await JsSandboxPool.create();
      runner = sandboxJsRunner(pool);
      await host.start();
      if (p.lease !== undefined) {
        leased = new LeasedHosting({ local: host, ...p.lease, componentOf: (so) => host.componentName(so) });
        leased.onOutput(tell);
      }
    },
    close: async () => {
      trigger?.stop();
      await leased?.close();
      pool?.close();
    },
  };
}
