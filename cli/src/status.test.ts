/** `ferry status` against a real CloudService on loopback with its latency probe running. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CloudService } from '@ferry/cloud';
import { startTestCloud } from '../../cloud/src/service/test-cloud.case.ts';
import { memoryIo } from './io.ts';
import { main } from './main.ts';
import { type HealthSummary, renderStatus } from './status.ts';

let svc: CloudService;
let api = '';
beforeAll(async () => {
  ({ svc, httpUrl: api } = await startTestCloud({
    name: 'cli-status',
    functionRunner: 'in-process',
    health: { checkPeriodMs: 100, probe: { periodMs: 100 } },
  }));
  const end = Date.now() + 15_000;
  while (svc.ops.probeSummary().enabled && (svc.ops.probe?.summary().received ?? 0) < 2) {
    if (Date.now() > end) throw new Error('the probe never came back');
    await new Promise((r) => setTimeout(r, 20));
  }
}, 60_000);
afterAll(async () => {
  await svc.stop();
});

const run = async (args: string[], token = svc.adminToken) => {
  const io = memoryIo([], { FERRY_API: api, FERRY_TOKEN: token });
  const code = await main(['node', 'ferry', ...args], io);
  return { code, out: io.stdout.join(''), err: io.stderr.join('') };
};

describe('ferry status', () => {
  it('prints readiness, components, devices and the probe latency', async () => {
    const r = await run(['status']);
    expect([r.code, r.err]).toEqual([0, '']);
    expect(r.out).toMatch(/^ferry cloud http:\/\/127\.0\.0\.1:\d+: READY\n/);
    expect(r.out).toContain('[+]broker');
    expect(r.out).toMatch(/probe {7}p50 [\d.]+ ms, p99 [\d.]+ ms/);
    expect(r.out).toMatch(/devices {5}\d+ online/);
  });

  it('--json gives the summary as the API answered it; a credential of an owner is refused', async () => {
    const r = await run(['status', '--json']);
    const h = JSON.parse(r.out) as HealthSummary;
    expect(h).toMatchObject({ ready: true, probe: { enabled: true } });
    expect(h.probe.received).toBeGreaterThanOrEqual(2);
    const owner = await run(['owner', 'add', 'carol']);
    const priv = (JSON.parse(owner.out) as { privateToken: string }).privateToken;
    const refused = await run(['status'], priv);
    expect([refused.code, (JSON.parse(refused.err) as { code: string }).code]).toEqual([1, 'FERRY_AUTH_FORBIDDEN']);
  });

  it('renders a failing cloud: reasons, failing components, offline devices, incidents, the probe off', () => {
    const text = renderStatus('http://x', {
      ready: false,
      checks: [
        { name: 'broker', ok: false, detail: 'the MQTT link is down' },
        { name: 'store', ok: true },
      ],
      components: [{ name: 'rule:cloud-1', ok: false, since: 0, attempts: 3, message: 'FERRY_RULES_JOB_FAILED: stopped' }],
      devices: { online: 1, offline: 3, offlineIds: ['a', 'b'] },
      incidents: [{ at: 0, component: 'rule:cloud-1', kind: 'restart-failed', attempt: 3, message: 'boom' }],
      probe: { enabled: false },
    });
    expect(text.split('\n')).toEqual([
      'ferry cloud http://x: NOT READY',
      'checks      [-]broker  [+]store',
      '            broker: the MQTT link is down',
      'components  1 supervised, 1 failing',
      '            rule:cloud-1: failing since 1970-01-01T00:00:00Z, 3 restart(s): FERRY_RULES_JOB_FAILED: stopped',
      'devices     1 online, 3 offline (a, b, ...)',
      'incidents   the latest 1',
      '            1970-01-01T00:00:00Z  rule:cloud-1  restart-failed #3  boom',
      'probe       off (ferry cloud start --probe <seconds>)',
      '',
    ]);
  });
});
