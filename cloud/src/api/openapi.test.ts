/** The OpenAPI document of /api/v1 matches the routes the server declares, both ways, and is served. */
import { ADMIN_TOKEN } from '@ferry/test-kit/http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CloudService } from '../service/service.ts';
import { startTestCloud } from '../service/test-cloud.case.ts';
import { declaredRoutes } from './auth.ts';
import { type OpenApiDocument, openApiPath } from './openapi.ts';

let cloud: CloudService;
let api: string;
beforeAll(async () => {
  ({ svc: cloud, httpUrl: api } = await startTestCloud({ name: 'openapi' }));
}, 30_000);
afterAll(async () => {
  await cloud?.stop();
});

const METHODS = ['get', 'put', 'post', 'delete', 'patch'];

describe('OpenAPI of the /api/v1 routes', () => {
  it('describes exactly the routes the server declares under /api/v1', async () => {
    const doc = (await (await fetch(`${api}/api/v1/openapi.json`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } })).json()) as OpenApiDocument;
    const declared = declaredRoutes(cloud.api!)
      .filter((r) => r.url.startsWith('/api/v1/'))
      .map((r) => `${r.method} ${openApiPath(r.url)}`)
      .sort();
    const described = Object.entries(doc.paths)
      .flatMap(([p, item]) =>
        Object.keys(item as object)
          .filter((k) => METHODS.includes(k))
          .map((m) => `${m.toUpperCase()} ${p}`),
      )
      .sort();
    expect(described).toEqual(declared);
    expect(declared.length).toBeGreaterThanOrEqual(13);
  });

  it('is served as JSON to any credential, and no route under /api/v1 is open without one', async () => {
    expect((await fetch(`${api}/api/v1/openapi.json`)).status).toBe(401);
    const r = await fetch(`${api}/api/v1/openapi.json`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    expect(r.status).toBe(200);
    const doc = (await r.json()) as OpenApiDocument;
    expect(doc.openapi).toMatch(/^3\./);
    const open = declaredRoutes(cloud.api!).filter((x) => x.url.startsWith('/api/v1/') && x.access === 'public');
    expect(open).toEqual([]);
  });
});
