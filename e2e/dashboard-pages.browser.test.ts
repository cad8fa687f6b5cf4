/**
 * The dashboard's rules, composite-streams, functions and commands pages in a real browser (headless Debian
 * chromium through playwright-core, @ferry/test-kit/browser), against a real cloud and a real gateway daemon
 * on its embedded broker: the rules page lists a cloud job with the counters of the readings the gateway sent
 * up, stops and starts it, moves it to the gateway and back with its counters; an owner sends a command from
 * the commands page to a device that verifies and acks it, and sees its timeline reach acked; the composite
 * stream and function pages show the owner's objects and calls. FERRY_SCREENSHOTS=1 writes docs/screenshots.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CloudService } from '@ferry/cloud';
import { startTestCloud } from '../cloud/src/service/test-cloud.case.ts';
import { GatewayDaemon, parseConfig } from '@ferry/gateway';
import { browserSkip, context, launch, login, screenshot, type Browser, type Page } from '@ferry/test-kit/browser';
import { CommandDevice } from '@ferry/test-kit/command-device';
import { KV_WAT } from '@ferry/test-kit/functions';
import { ADMIN_TOKEN, bodyOf, call } from '@ferry/test-kit/http';
import { ScriptedSource } from '@ferry/test-kit/sources';
import { until } from '@ferry/test-kit/until';
import { wat } from '@ferry/test-kit/wat';

const skip = browserSkip();

/** A count window of 3 readings' temperatures, fed by the gateway's BTHome readings. */
const SUM = {
  headers: { runtime: 'cloud', targetResource: 'cloud', jobType: 'aggregation' },
  jobConfig: {
    connectors: { input: 'ferry/up/gw-1/bthome/+', output: 'ferry/agg/sum' },
    jobProps: { function: 'sum', fieldName: 'temperature', window: { type: 'tumbling', size: 3, unit: 'count' } },
  },
};

describe.skipIf(skip !== undefined)(skip === undefined ? 'dashboard pages in chromium' : `dashboard pages in chromium (skipped: ${skip})`, () => {
  let cloud: CloudService;
  let base: string;
  let gateway: GatewayDaemon;
  let source: ScriptedSource;
  let device: CommandDevice;
  let browser: Browser;
  let priv: string;
  let jobId: string;
  let so: string;

  const read = (t: number) => source.sink!.reading({ device: 'A4:C1:38:00:00:01', kind: 'bthome', atMs: Date.now(), values: { temperature: t } });

  beforeAll(async () => {
    const urls = await startTestCloud({ name: 'dash-pages', functionRunner: 'in-process' });
    cloud = urls.svc;
    base = urls.httpUrl;
    const { key } = bodyOf<{ key: string }>(await call(base, 'POST', '/api/gateways', ADMIN_TOKEN, { id: 'gw-1' }), 'gateway');
    const cfg = parseConfig({
      gateway: { id: 'gw-1', key, data_dir: mkdtempSync(join(tmpdir(), 'ferry-dash-gw-')) },
      uplink: { url: urls.mqttUrl },
      api: { port: 0 },
    });
    source = new ScriptedSource();
    gateway = new GatewayDaemon(cfg, { sources: [source], log: () => undefined });
    await gateway.start();
    await until(() => gateway.uplink.connected, 'the gateway uplink');
    jobId = bodyOf<{ jobId: string }>(await call(base, 'POST', '/api/install', ADMIN_TOKEN, SUM), 'rule').jobId;
    bodyOf(await call(base, 'POST', '/api/start', ADMIN_TOKEN, { jobId }), 'start');

    priv = bodyOf<{ privateToken: string }>(await call(base, 'POST', '/api/owners', ADMIN_TOKEN, { id: 'acme' }), 'owner').privateToken;
    const dev = bodyOf<{ key: string }>(await call(base, 'POST', '/api/devices', priv, { id: 'th-1', namespace: 'home' }), 'device');
    device = await CommandDevice.connect({ url: urls.mqttUrl, id: 'th-1', key: dev.key });
    so = bodyOf<{ id: string }>(await call(base, 'POST', '/api/v1/sos', priv, { streams: { t: { channels: { c: { type: 'number' } } } } }), 'object').id;
    for (const [i, c] of [20.5, 21, 22.5].entries())
      bodyOf(
        await call(base, 'PUT', `/api/v1/sos/${so}/streams/t`, priv, { channels: { c: { 'current-value': c } }, lastUpdate: Date.now() - 3000 + i * 1000 }),
        'update',
      );
    const bytes = wat(KV_WAT);
    const up = bodyOf<{ hash: string }>(await call(base, 'POST', '/api/functions/modules?namespace=home', priv, bytes, 'application/wasm'), 'module');
    bodyOf(await call(base, 'POST', '/api/functions/whitelist', priv, { namespace: 'home', hash: up.hash, allowed: true }), 'white-list');
    for (const exp of ['add', 'add', 'nope'])
      await call(base, 'POST', '/api/functions/call', priv, { hash: up.hash, export: exp, args: [1, 2], namespace: 'home' });
    browser = await launch();
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await device?.close(true);
    await gateway?.stop();
    await cloud?.stop();
  });

  async function page(credential: string, next: string): Promise<Page> {
    const p = await (await context(browser)).newPage();
    await login(p, base, credential, next);
    return p;
  }
  const text = async (p: Page, testId: string): Promise<string> => ((await p.getByTestId(testId).textContent()) ?? '').trim();

  it('the rules page lists a job with its counters, stops and starts it, moves it to the gateway and back', async () => {
    const p = await page(ADMIN_TOKEN, '/rules');
    await p.getByTestId(`rule-row-${jobId}`).waitFor();
    read(20);
    read(21);
    // The counters refresh by themselves: the two readings the gateway sent up reach the page.
    await until(async () => (await text(p, `rule-in-${jobId}`)) === '2', 'the page to show 2 inputs');
    expect(await text(p, `rule-state-${jobId}`)).toBe('RUNNING');
    await screenshot(p, 'rules');

    await p.getByTestId(`rule-stop-${jobId}`).click();
    await until(async () => (await text(p, `rule-state-${jobId}`)) === 'STOPPED', 'the job stopped on the page');
    expect(cloud.rules.engine.status(jobId).jobInfo.jobStatus).toBe('STOPPED');
    await p.getByTestId(`rule-start-${jobId}`).click();
    await until(async () => (await text(p, `rule-state-${jobId}`)) === 'RUNNING', 'the job running again');

    await p.getByTestId(`rule-move-to-${jobId}`).selectOption('gateway:gw-1');
    await p.getByTestId(`rule-move-${jobId}`).click();
    await until(() => gateway.rules.engine.list().some((j) => j.jobId === jobId), 'the job on the gateway');
    expect(cloud.rules.engine.list()).toEqual([]);
    await until(async () => (await p.getByTestId(`rule-row-${jobId}`).textContent())?.includes('gateway:gw-1') === true, 'the row to show the gateway');
    expect(await text(p, `rule-in-${jobId}`)).toBe('2'); // the window state and counters went with it

    await p.getByTestId(`rule-move-${jobId}`).click(); // a gateway's job moves back to the cloud
    await until(() => cloud.rules.engine.list().some((j) => j.jobId === jobId), 'the job back in the cloud');
    expect(gateway.rules.engine.list()).toEqual([]);
    // The third reading completes the window the job carried there and back: 20 + 21 + 22.
    read(22);
    await until(async () => (await text(p, `rule-out-${jobId}`)) === '1', 'the window to close in the cloud');
    expect(cloud.rules.engine.status(jobId).counters).toMatchObject({ in: 3, out: 1 });
  });

  it('an owner sends a command from the commands page and sees its timeline reach acked', async () => {
    const p = await page(priv, '/commands');
    await p.getByTestId('command-device').fill('th-1');
    await p.getByTestId('command-json').fill('{"setpoint": 21.5}');
    await p.getByTestId('command-send').click();
    await until(async () => /^c-\S+: /.test(await text(p, 'command-result')), 'the command id');
    const id = (await text(p, 'command-result')).split(':')[0]!;
    await until(async () => (await text(p, `command-timeline-${id}`)).includes('acked'), 'the timeline to reach acked');
    const steps = await p.getByTestId(`command-timeline-${id}`).locator('.badge').allTextContents();
    expect(steps).toEqual(['queued', 'sent', 'delivered', 'acked']);
    expect(device.applied.get(id)).toBe(1);
    await screenshot(p, 'commands');
  });

  it("the composite-streams and functions pages show the owner's objects, counters and calls", async () => {
    const p = await page(priv, '/sos');
    const row = p.getByTestId(`so-row-${so}-t`);
    await row.waitFor();
    expect(await row.textContent()).toContain('cloud');
    await screenshot(p, 'sos');
    await p.getByTestId(`so-stream-${so}-t`).click();
    await until(async () => (await p.getByTestId('chart-c').getAttribute('data-points')) === '3', 'the stream chart with its 3 values');
    await screenshot(p, 'sos-stream');

    await p.getByTestId('nav-functions').click();
    const fn = p.locator('[data-testid^="function-row-"]');
    await fn.first().waitFor();
    const hash = ((await fn.first().getAttribute('data-testid')) ?? '').slice('function-row-'.length);
    expect([await text(p, `function-calls-${hash}`), await text(p, `function-errors-${hash}`)]).toEqual(['3', '1']);
    await screenshot(p, 'functions');
  });
});
