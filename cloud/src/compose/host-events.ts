/**
 * @module Who the composite-stream host tells what (docs/composite-streams.md "Hosting"): `onOutput` gets the
 * values this process stores, after each is stored (the SoHosting seam); `onStored` gets the values every
 * worker stores (in scale-out through the relay, so an event stream open on one worker sees values computed
 * on another; embedded, the same as onOutput); `onAccessChange` hears that who may read an object changed,
 * on any worker; `onPush` hears every push with the time its propagation took. A listener that throws is
 * logged; the others still run.
 */
import type { Result } from '@ferry/base';
import type { ComposeError, PushReport } from '@ferry/compose';
import type { HostedOutput } from './hosting.ts';
import type { OutputRelay, RelayMessage } from './records.ts';

export type PushListener = (so: string, stream: string, report: Result<PushReport, ComposeError>, ms: number) => void;

const listen = <T>(set: Set<T>, l: T): (() => void) => {
  set.add(l);
  return () => set.delete(l);
};

export class HostEvents {
  readonly #outputs = new Set<(o: HostedOutput) => void>();
  readonly #stored = new Set<(o: HostedOutput) => void>();
  readonly #access = new Set<(so: string) => void>();
  readonly #pushes = new Set<PushListener>();
  readonly #relay: OutputRelay | undefined;
  readonly #log: (m: string) => void;

  constructor(relay: OutputRelay | undefined, log: (m: string) => void) {
    this.#relay = relay;
    this.#log = log;
  }

  /** Scale-out: starts hearing the other workers. */
  async start(): Promise<void> {
    await this.#relay?.start((m: RelayMessage) => {
      if ('output' in m) this.#tell(this.#stored, m.output);
      else this.#tell(this.#access, m.access);
    });
  }

  onOutput = (l: (o: HostedOutput) => void): (() => void) => listen(this.#outputs, l);
  onStored = (l: (o: HostedOutput) => void): (() => void) => listen(this.#stored, l);
  onAccessChange = (l: (so: string) => void): (() => void) => listen(this.#access, l);
  onPush = (l: PushListener): (() => void) => listen(this.#pushes, l);

  stored(o: HostedOutput): void {
    this.#tell(this.#outputs, o);
    if (this.#relay === undefined) this.#tell(this.#stored, o);
    else this.#relay.publishOutput(o).catch((e: unknown) => this.#log(`compose: relay: ${String(e)}`));
  }

  accessChanged(so: string): void {
    if (this.#relay === undefined) this.#tell(this.#access, so);
    else this.#relay.publishAccess(so).catch((e: unknown) => this.#log(`compose: relay: ${String(e)}`));
  }

  pushed(...a: Parameters<PushListener>): void {
    this.#tell(this.#pushes, ...a);
  }

  #tell<A extends unknown[]>(set: Set<(...a: A) => void>, ...a: A): void {
    for (const l of set) {
      try {
        l(...a);
      } catch (e) {
        this.#log(`compose: a listener failed: ${e instanceof Error ? e.message : String(e)}`);
      }
    }
  }
}
