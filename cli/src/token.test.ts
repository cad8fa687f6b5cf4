/** `ferry token revoke` against a running cloud service: the owner revokes their token; nobody else can. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CloudService } from '@ferry/cloud';
import { startTestCloud } from '../../cloud/src/service/test-cloud.case.ts';
import { generatePrivateToken, mintPublicToken } from '@ferry/cloud/functions';
import { memoryIo } from './io.ts';
import { main } from './main.ts';

let svc: CloudService;
let api = '';
beforeAll(async () => {
  ({ svc, httpUrl: api } = await startTestCloud({ name: 'cli-token', functionRunner: 'in-process' }));
}, 30_000);
afterAll(async () => {
  await svc.stop();
});

const run = async (args: string[], env: Record<string, string>) => {
  const io = memoryIo([], env);
  const code = await main(['node', 'ferry', ...args], io);
  return { code, out: io.stdout.join(''), err: io.stderr.join('') };
};

describe('ferry token revoke', () => {
  it("revokes the owner's own public token (then refused as revoked); another owner's private token cannot", async () => {
    const alice = generatePrivateToken('alice');
    const bob = generatePrivateToken('bob');
    for (const t of [alice, bob]) expect(svc.functions.register(t).ok).toBe(true);
    const mint = () => {
      const p = mintPublicToken(alice, { subject: 'dev-1', namespaces: ['home'], rate: { perSecond: 10, burst: 10 }, ttlS: 3600 }, Date.now());
      if (!p.ok) throw p.error;
      return p.value;
    };
    const pub = mint();
    const byBob = await run(['token', 'revoke', pub], { FERRY_API: api, FERRY_TOKEN: bob });
    expect(byBob.code).toBe(1);
    expect(svc.functions.authenticate(pub).ok).toBe(true);
    const r = await run(['token', 'revoke', pub], { FERRY_API: api, FERRY_TOKEN: alice });
    expect([r.code, JSON.parse(r.out)]).toEqual([0, { revoked: true }]);
    const after = svc.functions.authenticate(pub);
    expect(after.ok ? 'ok' : after.error.code).toBe('FERRY_FN_TOKEN_REVOKED');
    expect(svc.functions.authenticate(mint()).ok).toBe(true);
    expect((await run(['token', 'revoke', pub], { FERRY_API: api })).code).toBe(2); // no FERRY_TOKEN
  });
});
