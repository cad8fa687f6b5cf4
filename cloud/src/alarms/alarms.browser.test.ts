/**
 * The alarms page in a real browser (headless Debian chromium through playwright-core): an alarm rule made
 * over the API raises on an emulated board's telemetry; the alarm appears live on /alarms; an operator
 * acknowledges it in the page and sees its status change, the detail lists the history, and assigns it; a viewer of the
 * same owner sees the alarm but no Ack or Clear button; an operator clears it. FERRY_SCREENSHOTS=1 writes
 * docs/screenshots/alarms.png.
 */
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EmulatedBoard } from '@ferry/firmware';
import { browserSkip, context, launch, login, screenshot, type Browser, type Page } from '@ferry/test-kit/browser';
import { bodyOf, call, ownerWithTokens } from '@ferry/test-kit/http';
import { workerLogin } from '@ferry/test-kit/mqtt-login';
import { until } from '@ferry/test-kit/until';
import type { CloudService } from '../service/service.ts';
import { startTestCloud } from '../service/test-cloud.case.ts';

const skip = browserSkip();

describe.skipIf(skip !== undefined)(skip === undefined ? 'the alarms page in chromium' : `the alarms page (skipped: ${skip})`, () => {
  let svc: CloudService;
  let base: string;
  let browser: Browser;
  let pub: MqttClient;
  let priv: string;
  let operator: string;
  let viewer: string;
  let alarmId: string;

  const alarm = async (): Promise<{ id: string; status: string; history?: { what: string; by?: string }[] } | undefined> =>
    bodyOf<{ alarms: { id: string; status: string }[] }>(await call(base, 'GET', '/api/v1/alarms?type=too-warm', viewer), 'alarms').alarms[0];

  beforeAll(async () => {
    const urls = await startTestCloud({ name: 'alarms-page', functionRunner: 'in-process' });
    svc = urls.svc;
    base = urls.httpUrl;
    ({ priv, operator, viewer } = await ownerWithTokens(base, 'acme', ['operator', 'viewer']));
    pub = await mqtt.connectAsync(urls.mqttUrl, workerLogin(svc.mqttCredential));
    browser = await launch();
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await pub?.endAsync(true);
    await svc?.stop();
  });

  const page = async (): Promise<Page> => (await context(browser)).newPage();

  it('an alarm raised by an emulated board appears live; an operator acknowledges it in the page and sees the status change', async () => {
    const p = await page();
    await login(p, base, operator, '/alarms');
    await p.getByTestId('alarm-filter-status').waitFor();
    expect(await p.locator('[data-testid^="alarm-row-"]').count()).toBe(0);

    // The rule over the API; the board's thermostat reports t near 19 °C, so `t > 10` breaches at once.
    const { key } = bodyOf<{ key: string }>(await call(base, 'POST', '/api/devices', priv, { id: 'th-7', namespace: 'home' }), 'device');
    bodyOf(
      await call(base, 'POST', '/api/v1/alarm-rules', operator, {
        name: 'warm room',
        type: 'too-warm',
        severity: 'major',
        // No `event`: the cloud's rules see a board's messages on <p>/up/<id>/msg, whatever their ev.
        source: { kind: 'telemetry', device: 'th-7' },
        value: 't',
        condition: { op: '>', threshold: 10 },
      }),
      'alarm rule',
    );
    const board = await EmulatedBoard.create({ key: Buffer.from(key, 'hex'), deviceId: 'th-7', seed: 3, startMs: Date.now() });
    await board.boot();
    await board.run(3);
    for (const m of board.messages) await pub.publishAsync('ferry/up/th-7/msg', m, { qos: 1 });
    await until(async () => (await alarm()) !== undefined, 'the alarm raised');
    alarmId = (await alarm())!.id;

    // No reload: the page learnt of it over GET /api/v1/alarms/events.
    const status = p.getByTestId(`alarm-status-${alarmId}`);
    await status.waitFor();
    expect(await status.textContent()).toBe('active');
    expect(await p.getByTestId(`alarm-row-${alarmId}`).textContent()).toContain('th-7');
    await p.getByTestId(`alarm-ack-${alarmId}`).first().click();
    await until(async () => (await status.textContent()) === 'acknowledged', 'the status to change in the page');
    expect((await alarm())?.status).toBe('acknowledged');
    expect(await p.getByTestId(`alarm-ack-${alarmId}`).count()).toBe(0);

    await p.getByTestId(`alarm-row-${alarmId}`).click();
    await p.getByTestId('alarm-history-acknowledged').waitFor();
    expect(await p.getByTestId('alarm-history-raised').count()).toBe(1);
    // Assigned from the detail: the API keeps it, the row shows it, the history records it.
    await p.getByTestId(`alarm-assignee-${alarmId}`).fill('dana');
    await p.getByTestId(`alarm-assign-${alarmId}`).click();
    await p.getByTestId('alarm-history-assigned').waitFor();
    expect(await p.getByTestId(`alarm-row-${alarmId}`).textContent()).toContain('dana');
    expect(bodyOf<{ assignee?: string }>(await call(base, 'GET', `/api/v1/alarms/${alarmId}`, viewer), 'alarm').assignee).toBe('dana');
    await screenshot(p, 'alarms');
    await p.context().close();
  });

  it('a viewer sees the alarm and no Ack or Clear button; the operator clears it', async () => {
    const refused = await call(base, 'POST', `/api/v1/alarms/${alarmId}/clear`, viewer);
    expect(refused.status).toBe(403);
    const v = await page();
    await login(v, base, viewer, '/alarms');
    await v.getByTestId(`alarm-row-${alarmId}`).waitFor();
    expect(await v.getByTestId(`alarm-clear-${alarmId}`).count()).toBe(0);
    expect(await v.getByTestId(`alarm-ack-${alarmId}`).count()).toBe(0);
    await v.getByTestId(`alarm-row-${alarmId}`).click();
    await v.getByTestId('alarm-history').waitFor();
    expect(await v.getByTestId(`alarm-clear-${alarmId}`).count()).toBe(0);

    const o = await page();
    await login(o, base, operator, '/alarms?status=acknowledged');
    await o.getByTestId(`alarm-clear-${alarmId}`).click();
    // The operator's page drops it from the acknowledged filter; the viewer's live table shows it cleared.
    await until(async () => (await o.getByTestId(`alarm-row-${alarmId}`).count()) === 0, 'the cleared alarm to leave the filtered table');
    await until(async () => (await v.getByTestId(`alarm-status-${alarmId}`).first().textContent()) === 'cleared', "the viewer's page to show the clear");
    expect((await alarm())?.status).toBe('cleared');
    await v.context().close();
    await o.context().close();
  });
});
