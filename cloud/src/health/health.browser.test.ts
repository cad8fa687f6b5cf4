/**
 * The health page in a real browser (headless Debian chromium through playwright-core), on a cloud running
 * its latency probe: a global viewer sees readiness with its checks, the supervised components, the probe's
 * figures and a chart of `probe.latency_ms` from the health history that receives points as the page
 * refreshes; an owner's credential is refused the page's data and says so. FERRY_SCREENSHOTS=1 writes
 * docs/screenshots/health.png.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { browserSkip, context, launch, login, screenshot, type Browser, type Page } from '@ferry/test-kit/browser';
import { ADMIN_TOKEN, call } from '@ferry/test-kit/http';
import { until } from '@ferry/test-kit/until';
import { CloudService } from '../service/service.ts';

const skip = browserSkip();

describe.skipIf(skip !== undefined)(skip === undefined ? 'the health page in chromium' : `the health page (skipped: ${skip})`, () => {
  let svc: CloudService;
  let base: string;
  let browser: Browser;
  let viewer: string;

  beforeAll(async () => {
    svc = new CloudService({
      adminToken: ADMIN_TOKEN,
      dataDir: mkdtempSync(join(tmpdir(), 'ferry-health-page-')),
      mqttPort: 0,
      httpPort: 0,
      functionRunner: 'in-process',
      log: () => undefined,
      health: { checkPeriodMs: 100, probe: { periodMs: 200 } },
    });
    base = (await svc.start()).httpUrl;
    viewer = ((await call(base, 'POST', '/api/tokens', ADMIN_TOKEN, { role: 'viewer' })).body as { token: string }).token;
    // The first probe samples in the history, so the page's first load has a line to draw.
    await until(async () => {
      const now = Date.now();
      const r = await call(base, 'GET', `/api/v1/health/history?series=probe.latency_ms&from=${now - 60_000}&to=${now}`, viewer);
      return r.status === 200 && (r.body as { points: unknown[] }).points.length >= 2;
    }, 'probe samples in the health history');
    browser = await launch();
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await svc?.stop();
  });

  const page = async (): Promise<Page> => (await context(browser)).newPage();
  const points = async (p: Page, testId: string): Promise<number> => Number((await p.getByTestId(testId).getAttribute('data-points')) ?? '0');

  it('a global viewer sees readiness, the components, the probe and its latency chart, which grows as the page refreshes', async () => {
    const p = await page();
    await login(p, base, viewer, '/health');
    await p.getByTestId('health-check-broker').waitFor();
    await until(async () => (await p.getByTestId('health-ready').textContent())?.startsWith('ready') === true, 'the cloud to show ready');
    await p.getByTestId('health-component-mqtt').waitFor();
    expect(await p.getByTestId('probe-summary').textContent()).toMatch(/^p50 \d+\.\d\d ms, p99 \d+\.\d\d ms, .* sent, \d+ back/);
    // The chart: uPlot's canvas, fed from GET /api/v1/health/history.
    await p.getByTestId('probe-chart').locator('canvas').first().waitFor();
    await until(async () => (await points(p, 'probe-chart')) >= 2, 'the probe chart to have points');
    const first = await points(p, 'probe-chart');
    // Refreshes append what the probe measured since (one sample every 200 ms, a refresh every 5 s).
    await until(async () => (await points(p, 'probe-chart')) > first, 'the probe chart to receive new points', 20_000);
    await p.getByTestId('eventloop-chart').locator('canvas').first().waitFor();
    expect(await p.getByTestId('health-error').isHidden()).toBe(true);
    await screenshot(p, 'health');
    await p.context().close();
  });

  it("an owner's credential sees the refusal, not the data", async () => {
    const priv = ((await call(base, 'POST', '/api/owners', ADMIN_TOKEN, { id: 'acme' })).body as { privateToken: string }).privateToken;
    const p = await page();
    await login(p, base, priv, '/health');
    const error = p.getByTestId('health-error');
    await error.waitFor();
    expect(await error.textContent()).toContain('FERRY_AUTH_FORBIDDEN');
    expect(await p.getByTestId('health-check-broker').count()).toBe(0);
    await p.context().close();
  });
});
