/**
 * GET /api/streams/<kid>/<ev>: a stream's stored points, read no further than `limit` (docs/cloud.md "HTTP
 * API"), so one request cannot make the cloud read a whole stream into memory; the next page's `from` comes
 * back in a header.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN } from '@ferry/test-kit/http';
import { startTestCloud, type TestCloud } from '../service/test-cloud.case.ts';

let cloud: TestCloud;
let api: string;
beforeAll(async () => {
  cloud = await startTestCloud({ name: 'streams' });
  api = cloud.httpUrl;
  for (let sq = 0; sq < 5; sq++) await cloud.svc.ingest.series.append('dev-x/tel', { ts: 10 * (sq + 1), kid: 'dev-x', ep: 1, sq, value: { t: sq } });
});
afterAll(() => cloud.stop());

const sqs = (body: unknown): number[] => (body as { sq: number }[]).map((p) => p.sq);
const get = async (query: string): Promise<{ status: number; body: unknown; next: string | null }> => {
  const r = await fetch(`${api}/api/streams/dev-x/tel${query}`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
  return { status: r.status, body: await r.json(), next: r.headers.get('ferry-next-from') };
};

describe('GET /api/streams/<kid>/<ev>', () => {
  it('answers every point of the range when they fit the limit, and no next page', async () => {
    const all = await get('');
    expect([all.status, sqs(all.body), all.next]).toEqual([200, [0, 1, 2, 3, 4], null]);
  });

  it('reads at most `limit` points, the first by arrival, and names where the next page starts', async () => {
    const first = await get('?limit=2');
    expect([first.status, sqs(first.body), first.next]).toEqual([200, [0, 1], '30']);
    const next = await get('?limit=2&from=30');
    expect([sqs(next.body), next.next]).toEqual([[2, 3], '50']);
    const last = await get('?limit=2&from=50');
    expect([sqs(last.body), last.next]).toEqual([[4], null]);
  });

  it('refuses a limit or range that is not an integer in bounds, with a typed error naming it', async () => {
    for (const q of ['limit=0', 'limit=100001', 'limit=2.5', 'from=abc', 'to=-1', 'from=9&to=9'])
      expect(await get(`?${q}`)).toMatchObject({ status: 400, body: { code: 'FERRY_API_BAD_REQUEST' } });
  });
});
