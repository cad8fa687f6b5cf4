/**
 * @module The cloud's OpenAPI 3.0 document of the `/api/v1` routes (https://spec.openapis.org/oas/v3.0.3),
 * served at GET /api/v1/openapi.json to any credential. Each area writes its paths as a fragment beside its
 * routes (sos-openapi.ts, health-openapi.ts, ...); this file joins them. Written out rather than generated:
 * the routes validate their input in code, not with fastify schemas. openapi.test.ts holds the document to
 * the routes the server declares, both ways, so a route added or removed without its description fails.
 */
import type { FastifyInstance } from 'fastify';

export const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
export const json = (schema: unknown) => ({ content: { 'application/json': { schema } } });
export const path = (name: string, description: string) => ({ name, in: 'path', required: true, description, schema: { type: 'string' } });
export const query = (name: string, description: string, schema: unknown = { type: 'integer', minimum: 0 }) => ({
  name,
  in: 'query',
  required: false,
  description,
  schema,
});
const errors = (...codes: number[]) =>
  Object.fromEntries(codes.map((c) => [String(c), { description: "a Ferry error (docs/errors.md): the area's FERRY_* code", ...json(ref('Error')) }]));
/** One operation; every one can answer 401, 403, 404 and 429, plus `codes`. */
export const op = (summary: string, x: Record<string, unknown>, ...codes: number[]) => ({
  summary,
  ...x,
  responses: { ...(x['responses'] as object), ...errors(401, 403, 404, 429, ...codes) },
});

/** The paths and schemas one area adds. */
export interface OpenApiFragment {
  readonly paths: Readonly<Record<string, unknown>>;
  readonly schemas?: Readonly<Record<string, unknown>>;
}

/** The fragments' paths, the operations of one path from several fragments (a list route beside its create) in one item. */
function mergePaths(fragments: readonly OpenApiFragment[]): Record<string, unknown> {
  const out: Record<string, Record<string, unknown>> = {};
  for (const f of fragments) for (const [p, item] of Object.entries(f.paths)) out[p] = { ...out[p], ...(item as Record<string, unknown>) };
  return out;
}

export function openApiDocument(fragments: readonly OpenApiFragment[]) {
  return {
    openapi: '3.0.3',
    info: {
      title: 'Ferry cloud API',
      version: '1.0.0',
      description:
        "The cloud's versioned REST API (docs/cloud.md). Every route needs a credential (docs/security.md); owners act on their own objects, and another owner's object answers 404.",
    },
    security: [{ bearer: [] }],
    paths: {
      ...mergePaths(fragments),
      '/api/v1/openapi.json': {
        get: { summary: 'This document', responses: { '200': { description: 'OpenAPI 3.0', ...json({ type: 'object' }) } } },
      },
    } as Record<string, unknown>,
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'an API token, an owner private token, or the admin credential' } },
      schemas: {
        Error: {
          type: 'object',
          required: ['code', 'message'],
          properties: { code: { type: 'string' }, num: { type: 'integer' }, message: { type: 'string' } },
        },
        ...Object.assign({}, ...fragments.map((f) => f.schemas ?? {})),
      } as Record<string, unknown>,
    },
  };
}
export type OpenApiDocument = ReturnType<typeof openApiDocument>;

/** The OpenAPI path of a fastify URL (`/api/v1/sos/:so` -> `/api/v1/sos/{so}`). */
export const openApiPath = (url: string): string => url.replace(/:([A-Za-z0-9_]+)/g, '{$1}');

export function openApiRoute(app: FastifyInstance, doc: OpenApiDocument): void {
  app.get('/api/v1/openapi.json', { config: { access: 'viewer' } }, async () => doc);
}
