/**
 * The gateway's operations on a real broker (aedes): /readyz follows the uplink away and back, reasons only
 * with the API token; a source that goes down and a failed edge rule job are restarted by the supervisor,
 * with incidents kept in health.db across a restart.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { SupervisorEvent } from '@ferry/base';
import { aedesBroker } from '@ferry/test-kit/brokers';
import { until } from '@ferry/test-kit/until';
import { parseConfig } from '../daemon/config.ts';
import { GatewayDaemon } from '../daemon/daemon.ts';
import type { Source, SourceHealth, SourceSink } from '../sources/types.ts';

const KEY = '5a'.repeat(32);
const TOKEN = 'gateway-api-token-0123456789abcdef-xyz';
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** A source that crashes on demand (reports itself down) and counts the starts the supervisor makes. */
class CrashingSource implements Source {
  readonly name = 'serial:/dev/ttyUSB0';
  sink: SourceSink | undefined;
  starts = 0;
  crashed = false;
  async start(sink: SourceSink): Promise<void> {
    this.starts++;
    this.crashed = false;
    this.sink = sink;
  }
  async stop(): Promise<void> {
    this.sink = undefined;
  }
  health(): SourceHealth {
    return { name: this.name, up: !this.crashed && this.sink !== undefined, lastInputMs: undefined, counters: {} };
  }
}

async function gateway(o: { dataDir?: string; token?: boolean } = {}) {
  const broker = await aedesBroker();
  cleanups.push(() => broker.stop());
  const dataDir = o.dataDir ?? mkdtempSync(join(tmpdir(), 'ferry-gw-ops-'));
  if (o.token === true) writeFileSync(join(dataDir, 'api.token'), `${TOKEN}\n`, { mode: 0o600 });
  const cfg = parseConfig({
    gateway: { id: 'gw-9', key: KEY, data_dir: dataDir },
    uplink: { url: broker.url },
    api: { port: 0, ...(o.token === true && { token_file: join(dataDir, 'api.token') }) },
  });
  const src = new CrashingSource();
  const events: SupervisorEvent[] = [];
  const d = new GatewayDaemon(cfg, { sources: [src], log: () => undefined, checkPeriodMs: 50, notify: (e) => events.push(e) });
  const api = await d.start();
  cleanups.push(() => d.stop());
  await until(() => d.uplink.connected, 'uplink');
  return { d, src, api, broker, dataDir, events };
}

const readyz = async (api: string, token?: string) => {
  const r = await fetch(`${api}/readyz?verbose`, token === undefined ? {} : { headers: { authorization: `Bearer ${token}` } });
  return { status: r.status, text: await r.text() };
};

describe('gateway operations', () => {
  it('answers /healthz; /readyz turns 503 while the broker is away and 200 when it is back; reasons only with the token', async () => {
    const { api, broker } = await gateway({ token: true });
    expect(await (await fetch(`${api}/healthz`)).text()).toBe('ok\n');
    expect((await readyz(api)).status).toBe(200);
    await broker.stop();
    await until(async () => (await readyz(api)).status === 503, 'readyz 503');
    expect((await readyz(api)).text).toContain('[-]broker failed: reason withheld');
    expect((await readyz(api, TOKEN)).text).toContain('[-]broker failed: the MQTT uplink is down');
    expect((await fetch(`${api}/api/health`)).status).toBe(401); // the summary needs the token
    await broker.start();
    await until(async () => (await readyz(api)).status === 200, 'readyz 200 again', 20_000);
  });

  it('restarts a source that went down and a failed edge rule job, and keeps the incidents across a restart', async () => {
    const { d, src, api, dataDir } = await gateway();
    src.crashed = true;
    await until(() => src.starts >= 2 && !src.crashed, 'the source restarted');
    const info = d.rules.engine.install({
      headers: { runtime: 'gateway:gw-9', targetResource: 'r', jobType: 'single-filter' },
      jobConfig: { connectors: { input: 'sensors/+', output: 'alerts' }, jobProps: { condition: 'gt', threshold: 1, fieldName: 'temp' } },
    });
    d.rules.engine.start(info.jobId);
    for (let i = 0; d.rules.engine.status(info.jobId).failure === null && i < 1000; i++) d.rules.input('sensors/a', { other: 1 }, Date.now());
    await until(() => d.ops.incidents.list().some((i) => i.component === `rule:${info.jobId}` && i.kind === 'recovered'), 'the rule job back');
    expect(d.rules.engine.status(info.jobId).jobInfo.jobStatus).toBe('RUNNING');
    const health = (await (await fetch(`${api}/api/health`)).json()) as { ready: boolean; incidents: { component: string; kind: string }[] };
    expect(health.incidents.filter((i) => i.component === 'source:serial:/dev/ttyUSB0').map((i) => i.kind)).toEqual(['recovered', 'restarted', 'failed']);
    await d.stop();
    cleanups.length = 1; // the broker stays
    const again = await gateway({ dataDir });
    expect(again.d.ops.incidents.list().map((i) => i.component)).toContain(`rule:${info.jobId}`);
  });

  it('escalates once when restarts keep failing', async () => {
    const { src, events } = await gateway();
    src.start = async () => {
      throw new Error('port gone');
    };
    src.crashed = true;
    await until(() => events.length > 0, 'an escalation', 20_000);
    expect(events[0]).toMatchObject({ kind: 'component.failing', source: 'source:serial:/dev/ttyUSB0', priority: 'high' });
  });
});
