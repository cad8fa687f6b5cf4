/**
 * `ferry alarm` and the alarms line of `ferry status` against a real CloudService on loopback whose latency
 * probe runs with a built-in alarm threshold of 0 ms, so the probe-latency alarm is raised by real samples.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CloudService } from '@ferry/cloud';
import { startTestCloud } from '../../cloud/src/service/test-cloud.case.ts';
import { memoryIo } from './io.ts';
import { main } from './main.ts';

let svc: CloudService;
let api = '';
beforeAll(async () => {
  ({ svc, httpUrl: api } = await startTestCloud({
    name: 'cli-alarm',
    functionRunner: 'in-process',
    health: { checkPeriodMs: 100, probe: { periodMs: 100, alarmMs: 0 } },
  }));
  svc.devices.add('pump', 'home', Date.now());
}, 60_000);
afterAll(async () => {
  await svc.stop();
});

const run = async (args: string[]) => {
  const io = memoryIo([], { FERRY_API: api, FERRY_TOKEN: svc.adminToken });
  const code = await main(['node', 'ferry', ...args], io);
  return { code, out: io.stdout.join(''), err: io.stderr.join(''), json: (): unknown => JSON.parse(io.stdout.join('')) };
};
const until = async (f: () => Promise<boolean>, what: string): Promise<void> => {
  for (const end = Date.now() + 15_000; !(await f()); ) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
};
type Listed = { alarms: { id: string; type: string; status: string; severity: string }[] };

describe('ferry alarm', () => {
  it('raises the built-in probe-latency alarm from the probe; status counts it; ack and clear it', async () => {
    await until(async () => ((await run(['alarm', 'list', '--type', 'probe-latency'])).json() as Listed).alarms.length === 1, 'the probe-latency alarm');
    const [a] = ((await run(['alarm', 'list', '--status', 'active'])).json() as Listed).alarms.filter((x) => x.type === 'probe-latency');
    expect(a?.severity).toBe('major');
    expect((await run(['status'])).out).toMatch(/alarms {6}1 active \(1 major\), 0 acknowledged/);
    const acked = await run(['alarm', 'ack', a!.id]);
    expect([acked.code, (acked.json() as { status: string }).status]).toEqual([0, 'acknowledged']);
    expect((await run(['status'])).out).toMatch(/alarms {6}none active, 1 acknowledged/);
    const assigned = await run(['alarm', 'assign', a!.id, 'carol']);
    expect((assigned.json() as { assignee: string }).assignee).toBe('carol');
    const cleared = await run(['alarm', 'clear', a!.id]);
    expect((cleared.json() as { status: string }).status).toBe('cleared');
  });

  it('creates, lists and deletes a rule from flags; a refused one exits 1 naming the field', async () => {
    const made = await run([
      'alarm',
      'create',
      '--name',
      'wet',
      '--type',
      'leak',
      '--severity',
      'critical',
      '--device',
      'pump',
      '--value',
      'wet',
      '--op',
      '==',
      '--threshold',
      'true',
    ]);
    expect([made.code, made.err]).toEqual([0, '']);
    const rule = made.json() as { id: string; condition: unknown; source: unknown };
    expect([rule.condition, rule.source]).toEqual([
      { op: '==', threshold: true },
      { kind: 'telemetry', device: 'pump' },
    ]);
    expect((await run(['alarm', 'rules'])).out).toContain(rule.id);
    const bad = await run([
      'alarm',
      'create',
      '--name',
      'x',
      '--type',
      'x',
      '--severity',
      'minor',
      '--device',
      'ghost',
      '--value',
      'v',
      '--op',
      '>',
      '--threshold',
      '1',
    ]);
    expect([bad.code, (JSON.parse(bad.err) as { path: string }).path]).toEqual([1, 'source.device']);
    const usage = await run(['alarm', 'create', '--name', 'x', '--type', 'x', '--severity', 'minor', '--op', '>', '--threshold', '1']);
    expect(usage.code).toBe(2);
    expect((await run(['alarm', 'delete-rule', rule.id])).code).toBe(0);
    expect((await run(['alarm', 'rules'])).out).not.toContain(rule.id);
  });
});
