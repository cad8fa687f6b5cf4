/**
 * @module `npm run bench:notify` (docs/notifications.md "Benchmark"): webhook and email deliveries per second
 * through the cloud's notifier (event accepted into SQLite, fanned out, leased, sent, acknowledgement
 * recorded) to loopback sinks, against a baseline measured in the same run on the same sinks: plain HTTP
 * POSTs of the same body, and plain nodemailer sends, each at the notifier's concurrency for that channel
 * (8 webhook requests in flight, a pool of 2 SMTP connections). Runs are interleaved; medians printed;
 * the last line is one JSON object.
 */
import { mkdtempSync } from 'node:fs';
import { Agent, createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTransport } from 'nodemailer';
import { SMTPServer } from 'smtp-server';
import { CloudService, NOTIFY_LIMITS } from '@ferry/cloud';
import { median } from './lib.ts';

const RUNS = Number(process.env['RUNS'] ?? 5);
const WEBHOOKS = Number(process.env['WEBHOOKS'] ?? 1000);
const MAILS = Number(process.env['MAILS'] ?? 300);
const ADMIN = 'ferry-bench-admin-credential-0123456789abcdef';

let hooks = 0;
const http = createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    hooks++;
    res.writeHead(204).end();
  });
});
await new Promise<void>((r) => http.listen(0, '127.0.0.1', () => r()));
const hookUrl = `http://127.0.0.1:${(http.address() as AddressInfo).port}/hook`;

let mails = 0;
const smtp = new SMTPServer({
  authOptional: true,
  disabledCommands: ['STARTTLS'],
  logger: false,
  onData(stream, _s, done) {
    stream.resume();
    stream.on('end', () => {
      mails++;
      done();
    });
  },
});
await new Promise<void>((r) => smtp.listen(0, '127.0.0.1', () => r()));
const smtpPort = (smtp.server.address() as AddressInfo).port;

const cloud = new CloudService({
  adminToken: ADMIN,
  dataDir: mkdtempSync(join(tmpdir(), 'ferry-bench-notify-')),
  mqttPort: 0,
  httpPort: 0,
  log: () => undefined,
  functionRunner: 'in-process',
  notify: { allowPrivateAddresses: true, tickMs: 50 },
});
const { httpUrl } = await cloud.start();
const api = async (path: string, body: unknown): Promise<{ id: string }> => {
  const r = await fetch(`${httpUrl}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN}` },
    body: JSON.stringify(body),
  });
  if (r.status !== 201) throw new Error(`${path}: ${r.status} ${await r.text()}`);
  return (await r.json()) as { id: string };
};
const webhook = await api('/api/v1/notify/channels', { kind: 'webhook', config: { url: hookUrl } });
await api('/api/v1/notify/subscriptions', { channelId: webhook.id, kinds: ['bench.webhook'] });
const email = await api('/api/v1/notify/channels', {
  kind: 'email',
  config: { host: '127.0.0.1', port: smtpPort, from: 'ferry@example.com', to: ['ops@example.com'] },
});
await api('/api/v1/notify/subscriptions', { channelId: email.id, kinds: ['bench.email'] });

/** Deliveries/s through the notifier: n events reported, timed until all n are acknowledged. */
let reported = 0;
async function throughNotifier(kind: string, n: number): Promise<number> {
  reported += n;
  const before = cloud.notifier.counters.acked;
  const t0 = performance.now();
  for (let i = 0; i < n; i++) cloud.notify({ kind, source: `dev-${i % 50}`, at: Date.now(), data: { i, temp: 21.5 } });
  while (cloud.notifier.counters.acked - before < n) await new Promise((r) => setTimeout(r, 2));
  return (n * 1000) / (performance.now() - t0);
}

const body = JSON.stringify({
  delivery: 'd-bench',
  subject: '[normal] bench.webhook dev-1',
  body: 'x',
  event: { kind: 'bench.webhook', data: { temp: 21.5 } },
});
const agent = new Agent({ keepAlive: true, maxSockets: NOTIFY_LIMITS.inFlightPerChannel });
const post = (): Promise<void> =>
  new Promise((resolve, reject) => {
    const req = request(
      hookUrl,
      { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } },
      (res) => {
        res.resume();
        res.on('end', () => resolve());
      },
    );
    req.on('error', reject);
    req.end(body);
  });
/** Plain HTTP POSTs/s, n of them, 8 in flight. */
async function plainPosts(n: number): Promise<number> {
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: NOTIFY_LIMITS.inFlightPerChannel }, async () => {
      while (next++ < n) await post();
    }),
  );
  return (n * 1000) / (performance.now() - t0);
}

const transport = createTransport({ host: '127.0.0.1', port: smtpPort, secure: false, pool: true, maxConnections: 2 });
/** Plain nodemailer sends/s over a pool of 2 connections. */
async function plainMails(n: number): Promise<number> {
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: n }, (_, i) => transport.sendMail({ from: 'ferry@example.com', to: 'ops@example.com', subject: `bench ${i}`, text: 'x' })),
  );
  return (n * 1000) / (performance.now() - t0);
}

// Warm-up: connections, statements, JIT.
await throughNotifier('bench.webhook', 100);
await plainPosts(100);
await throughNotifier('bench.email', 20);
await plainMails(20);

const runs = { notifierWebhook: [] as number[], plainPost: [] as number[], notifierEmail: [] as number[], plainMail: [] as number[] };
for (let r = 0; r < RUNS; r++) {
  runs.notifierWebhook.push(await throughNotifier('bench.webhook', WEBHOOKS));
  runs.plainPost.push(await plainPosts(WEBHOOKS));
  runs.notifierEmail.push(await throughNotifier('bench.email', MAILS));
  runs.plainMail.push(await plainMails(MAILS));
  process.stderr.write(`run ${r + 1}/${RUNS}\n`);
}
const m = Object.fromEntries(Object.entries(runs).map(([k, v]) => [k, Math.round(median(v))])) as Record<keyof typeof runs, number>;
console.log(`webhook deliveries/s: notifier ${m.notifierWebhook}, plain POSTs ${m.plainPost} (ratio ${(m.notifierWebhook / m.plainPost).toFixed(2)})`);
console.log(`email deliveries/s:   notifier ${m.notifierEmail}, plain nodemailer ${m.plainMail} (ratio ${(m.notifierEmail / m.plainMail).toFixed(2)})`);
console.log(`webhook calls received ${hooks}, mails received ${mails}, notifier acked ${cloud.notifier.counters.acked}, dead ${cloud.notifier.counters.dead}`);

transport.close();
agent.destroy();
await cloud.stop();
http.closeAllConnections();
await new Promise<void>((r) => http.close(() => r()));
await new Promise<void>((r) => smtp.close(() => r()));
console.log(
  JSON.stringify({
    bench: 'notify',
    runs: RUNS,
    webhooks_per_run: WEBHOOKS,
    mails_per_run: MAILS,
    webhook_per_s: m.notifierWebhook,
    webhook_baseline_per_s: m.plainPost,
    webhook_ratio: Number((m.notifierWebhook / m.plainPost).toFixed(3)),
    email_per_s: m.notifierEmail,
    email_baseline_per_s: m.plainMail,
    email_ratio: Number((m.notifierEmail / m.plainMail).toFixed(3)),
    reported,
    acked: cloud.notifier.counters.acked,
    dead: cloud.notifier.counters.dead,
  }),
);
