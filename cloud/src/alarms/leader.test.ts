/**
 * The cloud's alarm rules in scale-out (docs/operations.md "Alarms", "Scale-out"): two or three clouds on one
 * real Redis, each with its own data dir and embedded broker, the device registered on each (its key differs
 * per registry) and its signed messages ingested straight into one worker or another, as a shared
 * subscription would split them. One worker leads and runs the jobs; the others forward what they ingest.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { encode } from '@ferry/message';
import { hmacKey } from '@ferry/message/node';
import { ADMIN_TOKEN } from '@ferry/test-kit/http';
import { startRedis } from '@ferry/test-kit/redis';
import { until } from '@ferry/test-kit/until';
import { CloudService } from '../service/service.ts';
import { AlarmScaleOut, type LeaderRules } from './scale-out.ts';
import type { AlarmRule, StoredAlarm } from './types.ts';

const redis = await startRedis();
let clouds: CloudService[] = [];
afterAll(async () => {
  if (redis.ok) await redis.stop();
});
beforeEach(async () => {
  if (redis.ok) await redis.connect().flushall(); // one Redis per file: each test starts from an empty store
});
afterEach(async () => {
  for (const c of clouds) await c.stop();
  clouds = [];
});

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

interface Worker {
  readonly svc: CloudService;
  /** Ingests one signed message of `device` on this worker (the sequence is shared: the reorder state is in Redis). */
  readonly send: (temp: number) => Promise<void>;
}

let sq = 0;
async function worker(device: string): Promise<Worker> {
  if (!redis.ok) throw new Error(redis.reason);
  const svc = new CloudService({
    adminToken: ADMIN_TOKEN,
    dataDir: mkdtempSync(join(tmpdir(), 'ferry-alarm-leader-')),
    redisUrl: redis.url,
    mqttPort: 0,
    httpPort: 0,
    log: process.env['ALARM_DEBUG'] === undefined ? () => undefined : (m) => console.log(m),
  });
  clouds.push(svc);
  await svc.start();
  const { key } = svc.devices.add(device, 'home', Date.now(), 'alice');
  const send = async (temp: number): Promise<void> => {
    const claims = { iss: device, iat: Math.floor(Date.now() / 1000), ev: 'tel', d: { temp } };
    const token = encode({ header: { kid: device, ep: 1, sq: sq++ }, claims }, hmacKey(Buffer.from(key, 'hex')));
    if (!token.ok) throw token.error;
    expect((await svc.ingest.ingest(token.value, { topic: `ferry/up/${device}/tel`, kid: device, now: Date.now() })).status).toBe('accepted');
  };
  return { svc, send };
}

const parts = (w: Worker) => {
  const p = w.svc.alarms.parts;
  if (p === undefined) throw new Error('alarms not started');
  return p;
};
/** The rule's alarms, newest first (not the built-in health alarms: a device gone silent is one too). */
const alarms = async (w: Worker): Promise<readonly StoredAlarm[]> => await parts(w).service.store.listAlarms({ owner: 'alice' }, { type: 'overheat' }, 100);
const history = async (w: Worker): Promise<string[][]> => (await alarms(w)).map((a) => a.history.map((h) => h.what));
const hot = (device: string, extra: Record<string, unknown> = {}) => ({
  name: 'too hot',
  type: 'overheat',
  severity: 'major',
  source: { kind: 'telemetry', device },
  value: 'temp',
  condition: { op: '>', threshold: 30 },
  ...extra,
});

/** Sends `temp` on `w` until `cond` holds: a worker reads the rules again each check period, and forwards only for rules it knows. */
async function sendUntil(w: Worker, temp: number, cond: () => Promise<boolean>, what: string): Promise<void> {
  await until(
    async () => {
      if (await cond()) return true;
      await w.send(temp);
      return false;
    },
    what,
    30_000,
    300,
  );
}

if (!redis.ok) describe.skip(`alarm rules across workers: skipped, ${redis.reason}`, () => undefined);
else
  describe('alarm rules across workers', () => {
    it('a rule made on the leader; a breach ingested by another worker raises once, a good value on the leader clears it', async () => {
      const device = 'th-a';
      const a = await worker(device);
      await until(() => a.svc.alarms.leads, 'worker A leading');
      const b = await worker(device);
      expect(b.svc.alarms.leads).toBe(false);
      const rule = await parts(a).rules.create('alice', hot(device));
      await sendUntil(b, 35, async () => (await alarms(a)).length === 1, 'the raise');
      for (const t of [36, 37]) await b.send(t); // still breaching: nothing new
      await sendUntil(a, 20, async () => (await alarms(a))[0]?.status === 'cleared', 'the clear');
      await sleep(1500); // a moment more: an edge applied twice, or run on two workers, would show
      expect(await history(b)).toEqual([['raised', 'cleared']]);
      expect((await alarms(a))[0]).toMatchObject({ source: device, count: 1 });
      // Deleted on a worker that does not lead: the leader drops its job, and its saves do not bring the rule back.
      const jobs = (): number => a.svc.rules.engine.list().length;
      const running = jobs();
      await parts(b).rules.delete(rule);
      for (const t of [20, 21, 22]) await b.send(t); // changes the job's state, which the leader saves each period
      await until(() => jobs() === running - 1, "the leader dropping the deleted rule's job");
      await sleep(1500);
      expect(await parts(a).service.store.getRule(rule.id)).toBeUndefined();
      expect(await history(a)).toEqual([['raised', 'cleared']]);
    }, 60_000);

    it('an alarm cleared by hand on a worker that does not lead: the next breach raises a new alarm', async () => {
      const device = 'th-c';
      const a = await worker(device);
      await until(() => a.svc.alarms.leads, 'worker A leading');
      const b = await worker(device);
      await parts(a).rules.create('alice', hot(device));
      await sendUntil(b, 35, async () => (await alarms(a)).length === 1, 'the raise');
      const [raised] = await alarms(a);
      await parts(b).service.clear(raised!.id, 'op-b');
      // The leader's job forgets the breach: while the condition lasts, the next breaching sample raises anew.
      await sendUntil(b, 36, async () => (await alarms(a)).length === 2, 'the raise after the clear');
      await sleep(1500);
      expect((await alarms(a)).map((x) => [x.status, x.count])).toEqual([
        ['active', 1],
        ['cleared', 1],
      ]);
    }, 60_000);

    it('missing data, breaching: a device whose messages go to another worker is not "no data"; its silence is, once', async () => {
      const device = 'th-m';
      const a = await worker(device);
      await until(() => a.svc.alarms.leads, 'worker A leading');
      const b = await worker(device);
      await parts(a).rules.create('alice', hot(device, { missing: { afterMs: 3000, policy: 'breaching' } }));
      const seen = async (): Promise<boolean> =>
        JSON.stringify((await parts(a).service.store.listRules({ owner: 'alice' }))[0]?.snapshot ?? null).includes(device);
      await sendUntil(b, 20, seen, "B forwarding the rule's device");
      // One message on the leader itself, then every message goes to B for well past afterMs: a job of A's fed only
      // what A ingests would call that silence "no data".
      await a.send(20);
      for (let i = 0; i < 20; i++) {
        await b.send(20);
        await sleep(300);
      }
      expect(await alarms(a)).toEqual([]);
      await until(async () => (await alarms(a)).length === 1, 'the "no data" raise');
      await sleep(2000);
      expect(await history(a)).toEqual([['raised']]);
    }, 60_000);

    it('the leader stops: another worker takes the lease, continues from its cursor, and nothing is raised twice', async () => {
      const device = 'th-k';
      const a = await worker(device);
      await until(() => a.svc.alarms.leads, 'worker A leading');
      const b = await worker(device);
      const c = await worker(device);
      await parts(b).rules.create('alice', hot(device));
      await sendUntil(b, 35, async () => (await alarms(a)).length === 1, 'the raise');
      await sendUntil(c, 20, async () => (await alarms(a))[0]?.status === 'cleared', 'the clear');
      await a.svc.stop();
      clouds = clouds.filter((x) => x !== a.svc);
      await c.send(40); // no leader yet: it waits in the stream for the next one
      await until(() => b.svc.alarms.leads || c.svc.alarms.leads, 'a new leader', 30_000);
      expect(b.svc.alarms.leads && c.svc.alarms.leads).toBe(false);
      await until(async () => (await alarms(b)).length === 2, 'the raise after the take-over');
      for (const t of [41, 42]) await b.send(t);
      await sleep(1500);
      expect(await history(c)).toEqual([['raised'], ['raised', 'cleared']]);
    }, 60_000);
  });

/** The lease alone, over fake rules that record what they are told (the jobs are AlarmRules', tested above). */
class Recorder implements LeaderRules {
  fed: string[] = [];
  dropped = 0;
  adopt = async (): Promise<void> => undefined;
  dropCloudJobs = (): void => {
    this.dropped++;
  };
  save = async (): Promise<void> => undefined;
  telemetry = (_kid: string, _ev: unknown, _rec: unknown, _at: number, id: string): number => this.fed.push(id) && 0;
  streamValue = (): number => 0;
  clearedByHand = async (): Promise<void> => undefined;
}

if (redis.ok) {
  const harness = redis;
  describe('the alarm leader lease', () => {
    it('a leader whose lease is taken drops its jobs; the next continues from the saved cursor, each input fed once', async () => {
      const prefix = harness.prefix();
      const rule = { id: 'ar-1', runtime: 'cloud', owner: 'alice', source: { kind: 'telemetry', device: 'd1' } } as unknown as AlarmRule;
      const peer = (worker: string, rules: Recorder): AlarmScaleOut =>
        new AlarmScaleOut({
          redis: harness.connect(),
          worker,
          rules,
          listRules: async () => [rule],
          device: () => ({ owner: 'alice', kind: 'device' }),
          log: () => undefined,
          prefix,
          leaseMs: 600,
          periodMs: 100,
        });
      const [r1, r2] = [new Recorder(), new Recorder()];
      const w1 = peer('w1', r1);
      await w1.start();
      await until(() => w1.leading, 'w1 leading');
      const w2 = peer('w2', r2);
      await w2.start();
      const check = harness.connect();
      try {
        w2.telemetry('d1', 'tel', { temp: 1 }, Date.now(), 'd1/1/0');
        w2.telemetry('d2', 'tel', { temp: 1 }, Date.now(), 'd2/1/0'); // no rule reads d2: not forwarded
        await until(async () => r1.fed.length === 1 && (await check.get(`${prefix}{alarm}:cursor`)) !== null, 'the first input fed and its cursor saved');
        await check.set(`${prefix}{alarm}:leader`, 'someone:0', 'PX', 1000); // w1's lease passes to another
        await until(() => !w1.leading && r1.dropped === 1, 'w1 dropping its jobs');
        await until(() => w1.leading || w2.leading, 'a new leader');
        w1.telemetry('d1', 'tel', { temp: 2 }, Date.now(), 'd1/1/1');
        await until(() => [...r1.fed, ...r2.fed].includes('d1/1/1'), 'the second input fed');
        await sleep(300);
        expect([...r1.fed, ...r2.fed].sort()).toEqual(['d1/1/0', 'd1/1/1']);
      } finally {
        await w1.close();
        await w2.close();
      }
    }, 30_000);
  });
}
