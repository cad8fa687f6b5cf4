/**
 * @module The one error handler of Ferry's HTTP servers (the gateway daemon's API and the cloud's): every
 * error leaves in Ferry's shape, `{code, num, message}` plus what its catalog adds, with the status the
 * catalog gives the code (docs/errors.md). A route that throws a catalog error gets it answered as it is;
 * what fastify refuses before a route runs (a body that is not JSON, too large, of a type no route parses, a
 * schema mismatch) becomes a FERRY_API_* code; an unknown route is FERRY_API_NOT_FOUND; anything else is a
 * 500 FERRY_API_INTERNAL that says nothing of the error (no message, no stack) and goes to the log.
 */
import type { FastifyError, FastifyInstance, FastifyReply } from 'fastify';
import { isCatalogError, type CatalogError } from '@ferry/base';
import { ApiError, type ApiErrorCode } from './errors.ts';

/** What a request that fastify refused before any route ran is, by the status fastify gave it. */
function refusal(e: FastifyError): ApiErrorCode | undefined {
  if (e.validation !== undefined) return 'FERRY_API_BAD_REQUEST';
  const status = e.statusCode;
  if (status === undefined || status < 400 || status > 499) return undefined;
  if (status === 413) return 'FERRY_API_TOO_LARGE';
  if (status === 415) return 'FERRY_API_MEDIA_TYPE';
  return 'FERRY_API_BAD_REQUEST';
}

/** The catalog error an error answers as: itself, the FERRY_API_* refusal it stands for, or FERRY_API_INTERNAL. */
export function apiErrorOf(e: unknown, log?: (message: string) => void): CatalogError {
  if (isCatalogError(e)) return e;
  const code = e instanceof Error ? refusal(e as FastifyError) : undefined;
  if (code !== undefined) return new ApiError(code, (e as Error).message, { cause: e });
  log?.(`internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
  return new ApiError('FERRY_API_INTERNAL', 'the server failed to answer this request', { cause: e });
}

/**
 * Installs the handler on a fastify instance (before its routes, so it covers them all): its errors and its
 * unknown routes answer in Ferry's shape. `log` receives the errors that become FERRY_API_INTERNAL.
 */
export function answerErrors(app: FastifyInstance, log?: (message: string) => void): void {
  app.setErrorHandler((error: unknown, _req, reply: FastifyReply) => {
    const e = apiErrorOf(error, log);
    return reply.code(e.status).send(e.toJSON());
  });
  app.setNotFoundHandler((req, reply) => {
    const e = new ApiError('FERRY_API_NOT_FOUND', `no route ${req.method} ${req.url.split('?')[0]}`);
    return reply.code(e.status).send(e.toJSON());
  });
}
