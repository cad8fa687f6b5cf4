/**
 * @module A gateway source driven by the test itself: the daemon starts it like any source, and the test calls
 * `sink.reading(...)` / `sink.signed(...)` to feed it (the real BLE and serial sources have their own tests
 * against noble and ptys).
 */
import type { Source, SourceHealth, SourceSink } from '@ferry/gateway';

export class ScriptedSource implements Source {
  readonly name = 'scripted';
  sink: SourceSink | undefined;
  async start(sink: SourceSink): Promise<void> {
    this.sink = sink;
  }
  async stop(): Promise<void> {
    this.sink = undefined;
  }
  health(): SourceHealth {
    return { name: this.name, up: this.sink !== undefined, lastInputMs: undefined, counters: {} };
  }
}
