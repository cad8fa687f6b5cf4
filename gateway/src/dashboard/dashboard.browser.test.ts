/**
 * The gateway's own dashboard in a real browser (headless Debian chromium through playwright-core): log in
 * with the API token through the login form, see a source and the last reading of a sensor it read, start and
 * stop an edge rule job from /jobs, and see /status with its readiness and event-loop charts; a wrong token is refused on the form. FERRY_SCREENSHOTS=1
 * writes docs/screenshots/gateway-*.png.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { aedesBroker } from '@ferry/test-kit/brokers';
import { browserSkip, context, launch, login, screenshot, type Browser, type Page } from '@ferry/test-kit/browser';
import { ScriptedSource } from '@ferry/test-kit/sources';
import { until } from '@ferry/test-kit/until';
import { parseConfig } from '../daemon/config.ts';
import { GatewayDaemon } from '../daemon/daemon.ts';

const skip = browserSkip();
const TOKEN = 'gateway-browser-token-0123456789abcdef-xyz';

describe.skipIf(skip !== undefined)(skip === undefined ? "the gateway's dashboard in chromium" : `the gateway's dashboard (skipped: ${skip})`, () => {
  let daemon: GatewayDaemon;
  let stopBroker: () => Promise<void>;
  let base: string;
  let browser: Browser;
  const source = new ScriptedSource();

  beforeAll(async () => {
    const broker = await aedesBroker();
    stopBroker = () => broker.stop();
    const dir = mkdtempSync(join(tmpdir(), 'ferry-gw-browser-'));
    writeFileSync(join(dir, 'api.token'), TOKEN, { mode: 0o600 });
    daemon = new GatewayDaemon(
      parseConfig({
        gateway: { id: 'gw-b', key: '5a'.repeat(32), data_dir: dir },
        uplink: { url: broker.url },
        api: { port: 0, token_file: join(dir, 'api.token') },
      }),
      { sources: [source], log: () => undefined },
    );
    base = await daemon.start();
    browser = await launch();
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await daemon?.stop();
    await stopBroker?.();
  });

  const page = async (): Promise<Page> => (await context(browser)).newPage();

  it('refuses a wrong token on the login form', async () => {
    const p = await page();
    await p.goto(`${base}/sources`);
    await p.getByTestId('login-token').waitFor();
    expect(new URL(p.url()).pathname).toBe('/login');
    await p.getByTestId('login-token').fill('not-the-gateway-token-0123456789abcdef');
    await p.getByTestId('login-submit').click();
    await p.getByTestId('login-error').waitFor();
    expect(await p.getByTestId('session').count()).toBe(0);
    await p.context().close();
  });

  it('logs in with the API token and lists a source with the last reading of its sensor', async () => {
    const p = await page();
    await login(p, base, TOKEN, '/sources');
    expect(await p.getByTestId('session').textContent()).toContain('admin');
    const row = p.getByTestId('source-row-scripted');
    await row.waitFor();
    expect(await row.textContent()).toContain('up');
    // A reading that arrives while the page is open shows at the next refresh.
    source.sink!.reading({ device: 'A4:C1:38:00:11:22', kind: 'bthome', atMs: Date.now(), values: { temperature: 21.5, humidity: 48 } });
    const reading = p.getByTestId('reading-row-A4:C1:38:00:11:22');
    await reading.waitFor();
    expect(await reading.textContent()).toContain('temperature=21.5');
    await screenshot(p, 'gateway-sources');
    await p.context().close();
  });

  it('starts and stops an edge rule job from /jobs, and shows the status', async () => {
    const { jobId } = daemon.rules.engine.install({
      headers: { runtime: 'gateway:gw-b', targetResource: base, jobType: 'single-filter' },
      jobConfig: {
        connectors: { input: 'ferry/up/gw-b/bthome/+', output: 'ferry/up/gw-b/hot' },
        jobProps: { condition: 'gt', threshold: 25, fieldName: 'temperature' },
      },
    });
    const p = await page();
    await login(p, base, TOKEN, '/jobs');
    await p.getByTestId(`job-start-${jobId}`).click();
    await p.getByTestId(`job-stop-${jobId}`).waitFor();
    expect(daemon.rules.engine.status(jobId).jobInfo.jobStatus).toBe('RUNNING');
    source.sink!.reading({ device: 'A4:C1:38:00:11:22', kind: 'bthome', atMs: Date.now(), values: { temperature: 30 } });
    await until(async () => (await p.getByTestId(`job-in-${jobId}`).textContent()) === '1', 'the job counting its input on the page');
    await screenshot(p, 'gateway-jobs');
    await p.getByTestId(`job-stop-${jobId}`).click();
    await p.getByTestId(`job-start-${jobId}`).waitFor();
    expect(daemon.rules.engine.status(jobId).jobInfo.jobStatus).toBe('STOPPED');

    await p.getByTestId('nav-status').click();
    await p.getByTestId('status-readyz').waitFor();
    expect(await p.getByTestId('status-gateway').textContent()).toContain('gw-b');
    expect(await p.getByTestId('status-healthz').textContent()).toBe('alive');
    await p.getByTestId('status-check-store').waitFor();
    // The charts: uPlot's canvases, fed from the gateway's GET /api/v1/health/history.
    for (const id of ['status-ready-chart', 'status-eventloop-chart']) {
      await p.getByTestId(id).locator('canvas').first().waitFor();
      await until(async () => Number((await p.getByTestId(id).getAttribute('data-points')) ?? 0) >= 1, `${id} to have points`);
    }
    expect(await p.getByTestId('status-error').isHidden()).toBe(true);
    await screenshot(p, 'gateway-status');
    await p.context().close();
  });
});
