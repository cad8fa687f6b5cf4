/**
 * The cloud's HTTP API answers every error in Ferry's shape `{code, num, message}` with the status the code's
 * catalog gives (docs/errors.md): its own refusals, the requests fastify refuses before a route runs
 * (a body that is not JSON, too large, of a type no route takes) and unknown routes.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { startTestCloud } from '../service/test-cloud.case.ts';
import { bearer, getAs } from '@ferry/test-kit/http';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function cloud(): Promise<string> {
  const { httpUrl, stop } = await startTestCloud({ name: 'api' });
  cleanups.push(stop);
  return httpUrl;
}

const raw = (url: string, body: string, type = 'application/json') => fetch(url, { method: 'POST', headers: { 'content-type': type, ...bearer() }, body });

/** Status and body of a reply; the body must be exactly Ferry's error shape (no fastify `statusCode`/`error`, no stack). */
async function answer(res: Response): Promise<[number, { code: string; num: number; message: string }]> {
  const body = (await res.json()) as Record<string, unknown>;
  expect(Object.keys(body).sort(), JSON.stringify(body)).toEqual(['code', 'message', 'num']);
  expect(typeof body['num']).toBe('number');
  expect(typeof body['message']).toBe('string');
  return [res.status, body as never];
}

describe('cloud HTTP API errors', () => {
  it('a body that is not JSON is a 400 FERRY_API_BAD_REQUEST', async () => {
    const url = await cloud();
    const [status, body] = await answer(await raw(`${url}/api/devices`, '{"id": '));
    expect([status, body.code, body.num]).toEqual([400, 'FERRY_API_BAD_REQUEST', 7101]);
    // The same on the rule routes and the function routes.
    expect((await answer(await raw(`${url}/api/install`, '{"id": ')))[1].code).toBe('FERRY_API_BAD_REQUEST');
    expect((await answer(await raw(`${url}/api/functions/call`, '')))[1].code).toBe('FERRY_API_BAD_REQUEST');
  });

  it('a body past the size limit is a 413 FERRY_API_TOO_LARGE; a type no route parses is a 415 FERRY_API_MEDIA_TYPE', async () => {
    const url = await cloud();
    const [big, bigBody] = await answer(await raw(`${url}/api/devices`, `{"id": "${'x'.repeat(1024 * 1024)}"}`));
    expect([big, bigBody.code]).toEqual([413, 'FERRY_API_TOO_LARGE']);
    const [type, typeBody] = await answer(await raw(`${url}/api/devices`, '<id/>', 'application/xml'));
    expect([type, typeBody.code]).toEqual([415, 'FERRY_API_MEDIA_TYPE']);
  });

  it('an unknown route is a 404 FERRY_API_NOT_FOUND', async () => {
    const url = await cloud();
    const [status, body] = await answer(await getAs(`${url}/api/nothing-here`));
    expect([status, body.code]).toEqual([404, 'FERRY_API_NOT_FOUND']);
  });

  it('device refusals carry their catalog number and status', async () => {
    const url = await cloud();
    expect((await raw(`${url}/api/devices`, JSON.stringify({ id: 'th-01' }))).status).toBe(201);
    const [exists, existsBody] = await answer(await raw(`${url}/api/devices`, JSON.stringify({ id: 'th-01' })));
    expect([exists, existsBody.code, existsBody.num]).toEqual([409, 'FERRY_DEVICE_EXISTS', 4701]);
    const [bad, badBody] = await answer(await raw(`${url}/api/devices`, JSON.stringify({ id: 'bad id' })));
    expect([bad, badBody.code, badBody.num]).toEqual([400, 'FERRY_DEVICE_BAD_ID', 4702]);
  });

  it('the gateway proxy answers a control error with its status: a path outside /api/ is refused before sending', async () => {
    const url = await cloud();
    // An unregistered gateway is not found, for the admin too: nothing is signed or sent for it.
    const [unknown, unknownBody] = await answer(await getAs(`${url}/api/gateways/gw-1/api/jobs`));
    expect([unknown, unknownBody.code]).toEqual([404, 'FERRY_DEVICE_NOT_FOUND']);
    expect((await raw(`${url}/api/gateways`, JSON.stringify({ id: 'gw-1' }))).status).toBe(201);
    const [status, body] = await answer(await getAs(`${url}/api/gateways/gw-1/health`));
    expect([status, body.code]).toEqual([400, 'FERRY_CTL_BAD_REQUEST']);
  });
});
