/** @module bench:gateway's part (4): moving a running windowed aggregation (with state) between two RulesHosts over their HTTP APIs on loopback. */
import Fastify, { type FastifyInstance } from 'fastify';
import { RulesHost, rulesRoutes } from '@ferry/rules-host';
import { topicSegment } from '../../gateway/src/daemon/daemon.ts';
import { GW, MOVES } from './config.ts';
import { sampleRecords } from './events.ts';
import { defer } from './lifecycle.ts';

export interface Moves {
  /** Milliseconds from POST /api/move to its response, one per move after the warm-up. */
  readonly moveTimes: number[];
  /** The largest /api/move body: the relocation object with the job's snapshot. */
  readonly relocationBytes: number;
  /** Inputs the moved job has seen (its watermark's sequence number) at the end. */
  readonly jobInputs: number;
}

/** Moves the job back and forth MOVES + 1 times (the first is a warm-up). */
export async function measureMoves(): Promise<Moves> {
  const hosts: { host: RulesHost; url: string; app: FastifyInstance }[] = [];
  let relocationBytes = 0; // the largest /api/move body: the relocation object with the job's snapshot
  for (const runtime of [`gateway:${GW}`, 'cloud']) {
    const h = new RulesHost({ runtime, publish: () => undefined });
    const app = Fastify({ logger: false, bodyLimit: 16 * 1024 * 1024 });
    app.addHook('onRequest', (req, _reply, done) => {
      if (req.url === '/api/move') relocationBytes = Math.max(relocationBytes, Number(req.headers['content-length'] ?? 0));
      done();
    });
    rulesRoutes(app, h);
    const url = await app.listen({ host: '127.0.0.1', port: 0 });
    defer(`rules api ${runtime}`, () => app.close());
    hosts.push({ host: h, url, app });
  }
  const [gwHost, cloudHost] = [hosts[0]!, hosts[1]!];
  const agg = {
    headers: { runtime: `gateway:${GW}`, targetResource: gwHost.url, jobType: 'aggregation' },
    jobConfig: {
      connectors: { input: `ferry/up/${GW}/bthome/+`, output: 'ferry/bench/agg' },
      jobProps: {
        function: 'avg',
        fieldName: 'temperature',
        groupBy: 'device',
        window: { type: 'sliding', size: 60_000, slide: 1000, unit: 'ms' },
        outputField: 'avgTemp',
      },
    },
  };
  const aggRes = await fetch(`${gwHost.url}/api/install`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(agg) });
  const { jobId } = (await aggRes.json()) as { jobId: string };
  gwHost.host.engine.start(jobId);
  // State: readings from every device over the last 60 s, so about 60 open windows x (DEVICES + 1) groups.
  // Both hosts see the stream (broker fan-out), as in production.
  let aggSeq = 0;
  const feed = (count: number): void => {
    const now = Date.now();
    for (let i = 0; i < count; i++) {
      const rec = sampleRecords[aggSeq % sampleRecords.length]!;
      const atMs = now - 60_000 + Math.floor((i * 60_000) / count);
      const id = `${GW}/1/agg-${aggSeq++}`;
      for (const h of hosts) h.host.input(`ferry/up/${GW}/bthome/${topicSegment(String(rec['device']))}`, rec, atMs, id);
    }
  };
  feed(5000);
  const moveTimes: number[] = [];
  let from = gwHost;
  let to = cloudHost;
  for (let m = 0; m < MOVES + 1; m++) {
    const target = to === cloudHost ? 'cloud' : `gateway:${GW}`;
    const t0 = performance.now();
    const res = await fetch(`${from.url}/api/move`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ jobId, target_runtime: target, targetResource: to.url }),
    });
    const body = await res.text();
    const ms = performance.now() - t0;
    if (res.status !== 200) throw new Error(`move ${m}: HTTP ${res.status} ${body}`);
    if (to.host.engine.list().find((j) => j.jobId === jobId)?.jobStatus !== 'RUNNING') throw new Error(`move ${m}: job not running at the target`);
    if (m > 0) moveTimes.push(ms); // the first is a warm-up (connections, JIT)
    [from, to] = [to, from];
    feed(200);
  }
  const jobStatus = from.host.engine.status(jobId);
  return { moveTimes, relocationBytes, jobInputs: jobStatus.watermark.seq };
}
