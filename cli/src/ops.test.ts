/**
 * The operator commands against a small fastify server on a loopback port that records each request and
 * answers what the test tells it: the request each command makes (method, path, Authorization, body), what
 * it prints, and its exit codes (0 answered, 1 refused, 2 usage: bad args, no FERRY_TOKEN, API unreachable).
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify from 'fastify';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { derivePublicSigningSecret, generatePrivateToken, parsePrivateToken, verifyPublicToken } from '@ferry/cloud/functions';
import { hmacKey } from '@ferry/message/node';
import { callArg } from './fn.ts';
import { memoryIo } from './io.ts';
import { main } from './main.ts';

interface Seen {
  method: string;
  url: string;
  auth: string | undefined;
  type: string | undefined;
  body: unknown;
}
let seen: Seen[] = [];
/** What the server answers next: JSON, or text when `text` is set. */
let next: { status: number; body?: unknown; text?: string } = { status: 200, body: {} };

const app = Fastify();
app.addContentTypeParser('application/wasm', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));
app.all('/*', async (req, reply) => {
  const body = req.body instanceof Buffer ? { wasmHex: req.body.toString('hex') } : (req.body ?? null);
  seen.push({ method: req.method, url: req.url, auth: req.headers.authorization, type: req.headers['content-type'], body });
  if (req.headers.authorization === 'Bearer refused') return reply.code(403).send({ code: 'FERRY_API_FORBIDDEN', message: 'not for this token' });
  if (next.text !== undefined) return reply.code(next.status).type('text/plain').send(next.text);
  return reply.code(next.status).send(next.body);
});

let api = '';
let closedApi = '';
const dir = mkdtempSync(join(tmpdir(), 'ferry-cli-ops-'));
const WASM = join(dir, 'f.wasm');
const RULE = join(dir, 'rule.json');
const NOT_JSON = join(dir, 'not.json');
const installation = {
  headers: { runtime: 'cloud', targetResource: 'room-1', jobType: 'single-filter' },
  jobConfig: { connectors: { input: 'ferry/up/+/msg', output: 'alerts/t' }, jobProps: { condition: 'gt', threshold: 30, fieldName: 't' } },
};
beforeAll(async () => {
  api = await app.listen({ host: '127.0.0.1', port: 0 });
  // A loopback port nothing listens on: bound, then released.
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  closedApi = `http://127.0.0.1:${(s.address() as { port: number }).port}`;
  await new Promise<void>((r) => s.close(() => r()));
  writeFileSync(WASM, Buffer.from('0061736d01000000', 'hex'));
  writeFileSync(RULE, JSON.stringify(installation));
  writeFileSync(NOT_JSON, '{ not json');
});
afterAll(async () => {
  await app.close();
});
beforeEach(() => {
  seen = [];
  next = { status: 200, body: {} };
});

const run = async (args: string[], env: Record<string, string> = { FERRY_API: api, FERRY_TOKEN: 'T' }) => {
  const io = memoryIo([], env);
  const code = await main(['node', 'ferry', ...args], io);
  return { code, out: io.stdout.join(''), err: io.stderr.join('') };
};

const HASH = 'ab'.repeat(32);
const PUB = 'eyJhbGciOiJIUzI1NiJ9.e30.c2ln';
const mqtt = { username: 'd1', password: 'pw' };
type Row = [args: string[], request: { method: string; url: string; body?: unknown }, answer: { status: number; body: unknown }];
/** Every command that calls the API, the request the contract says it makes, and an answer per the contract. */
const rows: Row[] = [
  [['owner', 'add', 'alice'], { method: 'POST', url: '/api/owners', body: { id: 'alice' } }, { status: 201, body: { owner: 'alice', privateToken: 'fpt_x' } }],
  [
    ['device', 'add', 'd1', '--owner', 'alice', '--namespace', 'home', '--gateway', 'gw1'],
    { method: 'POST', url: '/api/devices', body: { id: 'd1', namespace: 'home', owner: 'alice', gateway: 'gw1' } },
    { status: 201, body: { id: 'd1', namespace: 'home', owner: 'alice', gateway: 'gw1', key: 'k', mqtt } },
  ],
  [
    ['device', 'add', 'd2'],
    { method: 'POST', url: '/api/devices', body: { id: 'd2', namespace: 'default' } },
    { status: 201, body: { id: 'd2', key: 'k', mqtt } },
  ],
  [['device', 'list'], { method: 'GET', url: '/api/devices' }, { status: 200, body: [{ id: 'd1', namespace: 'home' }] }],
  [['device', 'remove', 'd1'], { method: 'DELETE', url: '/api/devices/d1' }, { status: 200, body: { id: 'd1', removed: true } }],
  [
    ['gateway', 'add', 'gw1', '--owner', 'alice', '--board', 'b1', 'b2'],
    { method: 'POST', url: '/api/gateways', body: { id: 'gw1', owner: 'alice', boards: ['b1', 'b2'] } },
    { status: 201, body: { id: 'gw1', key: 'k', mqtt } },
  ],
  [
    ['gateway', 'add', 'gw2', '--board', 'b1', '--board', 'b2'],
    { method: 'POST', url: '/api/gateways', body: { id: 'gw2', boards: ['b1', 'b2'] } },
    { status: 201, body: { id: 'gw2' } },
  ],
  [
    ['token', 'mint', '--role', 'operator', '--owner', 'alice', '--name', 'ci', '--ttl-days', '30'],
    { method: 'POST', url: '/api/tokens', body: { role: 'operator', owner: 'alice', name: 'ci', ttlDays: 30 } },
    { status: 201, body: { id: 't1', token: 'fat_x', role: 'operator', owner: 'alice', expiresMs: 1 } },
  ],
  [
    ['token', 'mint', '--role', 'viewer'],
    { method: 'POST', url: '/api/tokens', body: { role: 'viewer' } },
    { status: 201, body: { id: 't2', role: 'viewer' } },
  ],
  [['token', 'list'], { method: 'GET', url: '/api/tokens' }, { status: 200, body: [{ id: 't1', role: 'operator' }] }],
  [['token', 'revoke', PUB], { method: 'POST', url: '/api/tokens/revoke', body: { token: PUB } }, { status: 200, body: { revoked: true } }],
  [['token', 'revoke', '--id', 't/1'], { method: 'DELETE', url: '/api/tokens/t%2F1' }, { status: 200, body: { id: 't/1', revoked: true } }],
  [
    ['fn', 'upload', WASM, '--namespace', 'my home'],
    { method: 'POST', url: '/api/functions/modules?namespace=my%20home', body: { wasmHex: '0061736d01000000' } },
    { status: 201, body: { hash: HASH } },
  ],
  [
    ['fn', 'allow', HASH, '--namespace', 'home'],
    { method: 'POST', url: '/api/functions/whitelist', body: { namespace: 'home', hash: HASH, allowed: true } },
    { status: 200, body: { namespace: 'home', hash: HASH, allowed: true } },
  ],
  [
    ['fn', 'allow', HASH, '--namespace', 'home', '--deny'],
    { method: 'POST', url: '/api/functions/whitelist', body: { namespace: 'home', hash: HASH, allowed: false } },
    { status: 200, body: { allowed: false } },
  ],
  [
    ['fn', 'call', HASH, 'f', '-1', '2.5', 'true', 'false', 'x', '9007199254740993', '--namespace', 'home'],
    { method: 'POST', url: '/api/functions/call', body: { hash: HASH, export: 'f', args: [-1, 2.5, true, false, 'x', '9007199254740993'], namespace: 'home' } },
    { status: 200, body: { value: 1, emits: [], logs: [] } },
  ],
  [['rule', 'install', RULE], { method: 'POST', url: '/api/install', body: installation }, { status: 201, body: { jobId: 'cloud-1', jobStatus: 'INSTALLED' } }],
  [['rule', 'start', 'cloud-1'], { method: 'POST', url: '/api/start', body: { jobId: 'cloud-1' } }, { status: 200, body: { jobStatus: 'RUNNING' } }],
  [['rule', 'stop', 'cloud-1'], { method: 'POST', url: '/api/stop', body: { jobId: 'cloud-1' } }, { status: 200, body: { jobStatus: 'STOPPED' } }],
  [['rule', 'uninstall', 'cloud-1'], { method: 'POST', url: '/api/uninstall', body: { jobId: 'cloud-1' } }, { status: 200, body: { jobId: 'cloud-1' } }],
  [
    ['rule', 'move', 'cloud-1', '--to', 'gateway:gw1'],
    { method: 'POST', url: '/api/move', body: { jobId: 'cloud-1', target_runtime: 'gateway:gw1', targetResource: 'gateway:gw1' } },
    { status: 200, body: { target: {} } },
  ],
  [
    ['rule', 'move', 'cloud-1', '--to', 'cloud', '--resource', 'http://127.0.0.1:9/'],
    { method: 'POST', url: '/api/move', body: { jobId: 'cloud-1', target_runtime: 'cloud', targetResource: 'http://127.0.0.1:9/' } },
    { status: 200, body: { target: {} } },
  ],
  [['rule', 'list'], { method: 'GET', url: '/api/jobs' }, { status: 200, body: [{ jobId: 'cloud-1' }] }],
  [['rule', 'status', 'gateway:gw1-1'], { method: 'GET', url: '/api/jobs/gateway%3Agw1-1' }, { status: 200, body: { jobInfo: { jobId: 'gateway:gw1-1' } } }],
  [
    ['rule', 'install', RULE, '--gateway', 'gw1'],
    { method: 'POST', url: '/api/gateways/gw1/api/install', body: installation },
    { status: 201, body: { jobId: 'g-1' } },
  ],
  [['rule', 'start', 'g-1', '--gateway', 'gw1'], { method: 'POST', url: '/api/gateways/gw1/api/start', body: { jobId: 'g-1' } }, { status: 200, body: {} }],
  [['rule', 'stop', 'g-1', '--gateway', 'gw1'], { method: 'POST', url: '/api/gateways/gw1/api/stop', body: { jobId: 'g-1' } }, { status: 200, body: {} }],
  [
    ['rule', 'uninstall', 'g-1', '--gateway', 'gw1'],
    { method: 'POST', url: '/api/gateways/gw1/api/uninstall', body: { jobId: 'g-1' } },
    { status: 200, body: {} },
  ],
  [
    ['rule', 'move', 'g-1', '--to', 'cloud', '--resource', 'http://peer', '--gateway', 'gw1'],
    { method: 'POST', url: '/api/gateways/gw1/api/move', body: { jobId: 'g-1', target_runtime: 'cloud', targetResource: 'http://peer' } },
    { status: 200, body: {} },
  ],
  [['rule', 'list', '--gateway', 'gw1'], { method: 'GET', url: '/api/gateways/gw1/api/jobs' }, { status: 200, body: [] }],
  [['rule', 'status', 'g-1', '--gateway', 'gw1'], { method: 'GET', url: '/api/gateways/gw1/api/jobs/g-1' }, { status: 200, body: { jobInfo: {} } }],
];

describe('each command makes the request of the contract and prints the answer (exit 0)', () => {
  it.each(rows)('%j', async (args, request, answer) => {
    next = answer;
    const r = await run(args);
    expect([r.code, r.err]).toEqual([0, '']);
    expect(JSON.parse(r.out)).toEqual(answer.body);
    const json = request.body !== undefined && request.method !== 'GET' && !request.url.startsWith('/api/functions/modules');
    expect(seen).toEqual([
      {
        ...request,
        body: request.body ?? null,
        auth: 'Bearer T',
        type: json ? 'application/json' : request.body === undefined ? undefined : 'application/wasm',
      },
    ]);
  });
});

describe('a refusal (non-2xx) prints the API error on stderr and exits 1', () => {
  it.each(rows)('%j', async (args) => {
    const r = await run(args, { FERRY_API: api, FERRY_TOKEN: 'refused' });
    expect([r.code, r.out, JSON.parse(r.err)]).toEqual([1, '', { code: 'FERRY_API_FORBIDDEN', message: 'not for this token' }]);
  });

  it('an error that is not JSON comes as {status, message}', async () => {
    next = { status: 502, text: 'bad gateway' };
    const r = await run(['device', 'list']);
    expect([r.code, r.out, JSON.parse(r.err)]).toEqual([1, '', { status: 502, message: 'bad gateway' }]);
  });
});

describe('usage errors exit 2 with one line on stderr, and send nothing', () => {
  it.each(rows)('no FERRY_TOKEN: %j', async (args) => {
    const r = await run(args, { FERRY_API: api });
    expect([r.code, r.out, r.err]).toEqual([2, '', expect.stringMatching(/^ferry: FERRY_TOKEN must hold [^\n]+\n$/)]);
    expect(seen).toEqual([]);
  });

  it.each(rows)('API unreachable: %j', async (args) => {
    const r = await run(args, { FERRY_API: closedApi, FERRY_TOKEN: 'T' });
    expect([r.code, r.out, r.err]).toEqual([2, '', expect.stringMatching(new RegExp(`^ferry: cannot reach the cloud API at ${closedApi}: [^\\n]+\\n$`))]);
  });

  it.each([
    [['owner', 'add'], /missing required argument 'id'/],
    [['device', 'remove'], /missing required argument 'id'/],
    [['device', 'add', 'd', '--owner-token-env', 'NOPE'], /NOPE is not set/],
    [['fn', 'upload', join(dir, 'missing.wasm'), '--namespace', 'n'], /cannot read .*missing\.wasm/],
    [['fn', 'upload', WASM], /required option '--namespace <ns>' not specified/],
    [['fn', 'call', HASH, '--namespace', 'n'], /missing required argument 'export'/],
    [['rule', 'install', join(dir, 'missing.json')], /cannot read .*missing\.json as JSON/],
    [['rule', 'install', NOT_JSON], /cannot read .*not\.json as JSON/],
    [['rule', 'move', 'j'], /required option '--to <runtime>' not specified/],
    [['rule', 'status'], /missing required argument 'jobId'/],
    [['token', 'mint'], /give --role for an API token, or --namespace and --subject/],
    [['token', 'mint', '--role', 'root'], /--role must be one of viewer, operator, admin/],
    [['token', 'mint', '--role', 'viewer', '--namespace', 'home'], /leave out --role/],
    [['token', 'mint', '--owner', 'alice'], /need --role/],
    [['token', 'mint', '--role', 'viewer', '--ttl-days', '0'], /--ttl-days must be an integer/],
    [['token', 'mint', '--namespace', 'home', '--subject', 's', '--ttl', String(91 * 86_400)], /--ttl must be an integer in 1\.\.7776000/],
    [['token', 'mint', '--namespace', 'home', '--subject', 's', '--rate', 'fast'], /--rate must be an integer/],
    [['token', 'revoke'], /either a public token or --id/],
    [['token', 'revoke', PUB, '--id', 't1'], /either a public token or --id/],
    [['gateway', 'add'], /missing required argument 'id'/],
  ])('%j', async (args, message) => {
    const r = await run(args);
    expect([r.code, r.out]).toEqual([2, '']);
    expect(r.err).toMatch(message);
    expect(seen).toEqual([]);
  });
});

describe('the address and the credential', () => {
  it('--api wins over FERRY_API; the default is http://127.0.0.1:8080', async () => {
    next = { status: 200, body: [] };
    const r = await run(['device', 'list', '--api', `${api}/`], { FERRY_API: closedApi, FERRY_TOKEN: 'T' });
    expect([r.code, seen.length]).toEqual([0, 1]);
    const d = await run(['device', 'list', '--help']);
    expect(d.out).toMatch(/FERRY_API; default http:\/\/127\.0\.0\.1:8080/);
  });

  it('device add --owner-token-env still sends that private token in the body, beside FERRY_TOKEN', async () => {
    next = { status: 201, body: { id: 'd3' } };
    const r = await run(['device', 'add', 'd3', '--owner-token-env', 'OWNER_PT'], { FERRY_API: api, FERRY_TOKEN: 'T', OWNER_PT: 'fpt_owner' });
    expect(r.code).toBe(0);
    expect(seen[0]?.body).toEqual({ id: 'd3', namespace: 'default', privateToken: 'fpt_owner' });
  });
});

describe('ferry token mint (public token, offline)', () => {
  it('mints from the private token in FERRY_TOKEN a token the cloud would verify, with the permissions asked; no request', async () => {
    const alice = generatePrivateToken('alice');
    const r = await run(['token', 'mint', '--namespace', 'home', 'work', '--subject', 'dev-1', '--fn', HASH, '--ttl', '3600', '--rate', '5/s'], {
      FERRY_TOKEN: alice,
    });
    expect([r.code, r.err, seen]).toEqual([0, '', []]);
    const out = JSON.parse(r.out) as { token: string; expiresMs: number };
    expect(out).toMatchObject({ subject: 'dev-1', namespaces: ['home', 'work'], functions: [HASH], rate: { perSecond: 5, burst: 5 }, ttlS: 3600 });
    const p = parsePrivateToken(alice);
    if (!p.ok) throw p.error;
    const v = verifyPublicToken(out.token, (o) => (o === 'alice' ? hmacKey(derivePublicSigningSecret(p.value.secret, 'alice')) : undefined));
    if (!v.ok) throw v.error;
    expect(v.value).toMatchObject({ owner: 'alice', subject: 'dev-1', namespaces: ['home', 'work'], functions: [HASH], rate: { perSecond: 5, burst: 5 } });
    expect(v.value.expiresAtS - v.value.issuedAtS).toBe(3600);
    expect(out.expiresMs).toBe(v.value.expiresAtS * 1000);
  });

  it('refuses (exit 1, the error as JSON) a private token that is not one, or permissions out of bounds', async () => {
    const bad = await run(['token', 'mint', '--namespace', 'home', '--subject', 'dev-1'], { FERRY_TOKEN: 'not-a-private-token' });
    expect([bad.code, bad.out, JSON.parse(bad.err).code]).toEqual([1, '', expect.stringMatching(/^FERRY_FN_/)]);
    const ns = await run(['token', 'mint', '--namespace', 'Not Valid', '--subject', 'dev-1'], { FERRY_TOKEN: generatePrivateToken('alice') });
    expect([ns.code, JSON.parse(ns.err).code]).toEqual([1, 'FERRY_FN_BAD_PERMISSIONS']);
    expect((await run(['token', 'mint', '--namespace', 'home', '--subject', 'dev-1'], {})).code).toBe(2);
  });
});

describe('call arguments', () => {
  it('numbers as numbers, true/false as booleans, anything else (and integers past 2^53) as strings', () => {
    expect(['0', '-1', '2.5', '1e3', '.5', 'true', 'false', 'TRUE', '0x10', '', 'abc', '9007199254740991', '9007199254740992', '1e400'].map(callArg)).toEqual([
      0,
      -1,
      2.5,
      1000,
      0.5,
      true,
      false,
      'TRUE',
      '0x10',
      '',
      'abc',
      9007199254740991,
      '9007199254740992',
      '1e400',
    ]);
  });
});
