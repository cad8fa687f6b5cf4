/**
 * @module Rule outputs fed back to local rules: asynchronously (the event loop turns between stages) and at
 * most MAX_REINPUT_DEPTH stages deep, so a chain or a loop closed elsewhere cannot block the gateway.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseConfig } from './config.ts';
import { GatewayDaemon, MAX_REINPUT_DEPTH } from './daemon.ts';
import { ScriptedSource } from '@ferry/test-kit/sources';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});
const until = async (cond: () => boolean, what: string, ms = 10_000): Promise<void> => {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
};

const stage = (input: string, output: string) => ({
  headers: { runtime: 'gateway:gw-r', targetResource: 'chain', jobType: 'single-filter' },
  jobConfig: { connectors: { input, output }, jobProps: { condition: 'gt', threshold: -1, fieldName: 'v' } },
});

describe('rule re-input', () => {
  it('a chain of stages runs across event-loop turns and stops at MAX_REINPUT_DEPTH, counted as a problem', async () => {
    // The uplink points at a closed port: outputs stay in the outbox, where they are counted.
    const cfg = parseConfig({
      gateway: { id: 'gw-r', key: '5a'.repeat(32), data_dir: mkdtempSync(join(tmpdir(), 'ferry-gw-')) },
      uplink: { url: 'mqtt://127.0.0.1:1' },
      api: { port: 0 },
    });
    const src = new ScriptedSource();
    const problems: string[] = [];
    const d = new GatewayDaemon(cfg, { sources: [src], log: (_l, m) => problems.push(m) });
    await d.start();
    cleanups.push(() => d.stop());
    const stages = MAX_REINPUT_DEPTH + 3;
    d.rules.engine.install(stage('ferry/up/gw-r/n/#', 'chain/0'));
    for (let i = 0; i < stages - 1; i++) d.rules.engine.install(stage(`chain/${i}`, `chain/${i + 1}`));
    for (const j of d.rules.engine.list()) d.rules.engine.start(j.jobId);
    src.sink!.reading({ device: 'd1', kind: 'n', atMs: 1_767_225_600_000, values: { v: 1 } });
    // Synchronously only the reading and the first stage's output are stored; the rest come in later turns.
    expect(d.outbox.stats().rows).toBe(2);
    await until(() => problems.some((m) => m.startsWith('FERRY_GW_RULE_DEPTH')), 'the depth bound');
    // The reading, then one output per stage up to the bound (the last stage's output is stored, not fed back).
    expect(d.outbox.stats().rows).toBe(1 + MAX_REINPUT_DEPTH + 1);
  });
});
