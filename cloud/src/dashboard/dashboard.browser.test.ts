/**
 * The cloud's dashboard in a real browser (headless Debian chromium through playwright-core): logging in (a
 * wrong credential shows the error), a viewer seeing only its owner's devices, an emulated board's device
 * appearing and going online on /devices, its telemetry chart on /streams receiving live points, and 10 000
 * devices scrolling with only a screenful of rows in the DOM. FERRY_SCREENSHOTS=1 writes docs/screenshots.
 */
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EmulatedBoard } from '@ferry/firmware';
import { browserSkip, context, launch, login, screenshot, type Browser, type Page } from '@ferry/test-kit/browser';
import { ADMIN_TOKEN, bodyOf, call, ownerWithTokens } from '@ferry/test-kit/http';
import { workerLogin } from '@ferry/test-kit/mqtt-login';
import { until } from '@ferry/test-kit/until';
import type { CloudService } from '../service/service.ts';
import { startTestCloud } from '../service/test-cloud.case.ts';

const skip = browserSkip();

describe.skipIf(skip !== undefined)(skip === undefined ? 'the dashboard in chromium' : `the dashboard in chromium (skipped: ${skip})`, () => {
  let svc: CloudService;
  let base: string;
  let mqttUrl: string;
  let browser: Browser;
  let pub: MqttClient;
  let acme: { priv: string; viewer: string };
  const feeds = new Map<string, { send(n: number): Promise<void> }>();

  beforeAll(async () => {
    const urls = await startTestCloud({ name: 'dash', functionRunner: 'in-process' });
    svc = urls.svc;
    base = urls.httpUrl;
    mqttUrl = urls.mqttUrl;
    acme = await ownerWithTokens(base, 'acme', ['viewer']);
    bodyOf(await call(base, 'POST', '/api/owners', ADMIN_TOKEN, { id: 'zenith' }), 'other owner');
    bodyOf(await call(base, 'POST', '/api/devices', ADMIN_TOKEN, { id: 'zenith-dev', owner: 'zenith' }), 'other device');
    pub = await mqtt.connectAsync(mqttUrl, workerLogin(svc.mqttCredential));
    browser = await launch();
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await pub?.endAsync(true);
    await svc?.stop();
  });

  /** Registers `id` for acme and boots an emulated board for it; `send` publishes its next messages. */
  async function board(id: string): Promise<{ send(n: number): Promise<void> }> {
    const { key } = bodyOf<{ key: string }>(await call(base, 'POST', '/api/devices', acme.priv, { id, namespace: 'home' }), 'device');
    const b = await EmulatedBoard.create({ key: Buffer.from(key, 'hex'), deviceId: id, seed: 3, startMs: Date.now() });
    await b.boot();
    let sent = 0;
    const feed = {
      async send(n: number) {
        await b.run(n);
        for (const m of b.messages.slice(sent)) await pub.publishAsync(`ferry/up/${id}/msg`, m, { qos: 1 });
        sent = b.messages.length;
      },
    };
    feeds.set(id, feed);
    return feed;
  }

  async function page(): Promise<Page> {
    return (await context(browser)).newPage();
  }

  it('refuses a wrong credential on the login form, and a page without a session goes to /login', async () => {
    const p = await page();
    await p.goto(`${base}/streams?device=x`);
    await p.getByTestId('login-token').waitFor();
    expect(new URL(p.url()).pathname).toBe('/login');
    expect(new URL(p.url()).searchParams.get('next')).toBe('/streams?device=x');
    await p.getByTestId('login-token').fill('not-a-credential-at-all-0123456789');
    await p.getByTestId('login-submit').click();
    await p.getByTestId('login-error').waitFor({ state: 'visible' });
    expect(await p.getByTestId('login-error').textContent()).toContain('unknown');
    expect(await p.getByTestId('session').count()).toBe(0);
    await screenshot(p, 'login');
    await p.context().close();
  });

  it("shows a viewer its owner's devices only, and no buttons that change anything", async () => {
    await board('acme-v1');
    const p = await page();
    await login(p, base, acme.viewer);
    expect(await p.getByTestId('session').textContent()).toBe('acme · viewer');
    await p.getByTestId('device-row-acme-v1').waitFor();
    expect(await p.getByTestId('device-row-zenith-dev').count()).toBe(0);
    expect(await p.locator('main button').count()).toBe(0);
    await p.context().close();
  });

  it('lists a device when its emulated board starts, and shows it online once its messages arrive', async () => {
    const p = await page();
    await login(p, base, ADMIN_TOKEN);
    const th = await board('th-01');
    const row = p.getByTestId('device-row-th-01');
    await row.waitFor({ timeout: 20_000 }); // the page refreshes every few seconds
    expect(await row.getByText('unseen').count()).toBe(1);
    // A board reports every few hundred ms here; liveness learns that interval, so it must keep reporting to stay online.
    const feeding = setInterval(() => void th.send(1), 300);
    try {
      await row.getByText('online').waitFor({ timeout: 20_000 });
    } finally {
      clearInterval(feeding);
    }
    expect(await p.getByTestId('device-row-zenith-dev').count()).toBe(1); // the cloud admin sees every owner's
    await screenshot(p, 'devices');
    // A click opens its streams.
    await row.click();
    await p.waitForURL(/\/streams\?device=th-01/);
    await p.context().close();
  });

  it("draws the history of a board's telemetry on /streams and appends its live points", async () => {
    const th = feeds.get('th-01');
    if (th === undefined) throw new Error('the devices test starts th-01 first');
    const p = await page();
    await login(p, base, ADMIN_TOKEN, '/streams?device=th-01&event=tel');
    const chart = p.getByTestId('chart-t');
    await chart.waitFor({ timeout: 20_000 });
    const before = Number(await chart.getAttribute('data-points'));
    expect(before).toBeGreaterThan(0); // history from /api/v1/series
    expect(await p.locator('.chart canvas').count()).toBeGreaterThan(0);
    const feeding = setInterval(() => void th.send(1), 300);
    try {
      await until(async () => Number(await chart.getAttribute('data-points')) >= before + 5, 'five live points on the chart', 20_000);
    } finally {
      clearInterval(feeding);
    }
    await screenshot(p, 'streams');
    await p.context().close();
  });

  it('scrolls 10 000 devices with only a screenful of rows in the DOM', async () => {
    const p = await page();
    await login(p, base, ADMIN_TOKEN);
    // The list comes from the API as it would for a large fleet (the front end is what is measured here).
    const many = Array.from({ length: 10_000 }, (_, i) => ({
      id: `d${String(i).padStart(5, '0')}`,
      owner: 'acme',
      kind: 'device',
      namespace: 'home',
      createdMs: 0,
    }));
    await p.route('**/api/devices', (r) => r.fulfill({ json: many }));
    await p.route('**/api/v1/health/devices?*', (r) => r.fulfill({ json: [] }));
    await p.reload();
    await p.getByTestId('device-row-d00000').waitFor({ timeout: 20_000 });
    expect(await p.getByTestId('devices-count').textContent()).toBe('10000 of 10000');
    const rows = async (): Promise<number> => p.locator('[data-testid^="device-row-"]').count();
    expect(await rows()).toBeLessThan(80);
    await p.getByTestId('vtable-body').evaluate((e) => e.scrollTo(0, e.scrollHeight));
    await p.getByTestId('device-row-d09999').waitFor();
    expect(await rows()).toBeLessThan(80);
    expect(await p.getByTestId('device-row-d00000').count()).toBe(0);
    await p.context().close();
  });
});
