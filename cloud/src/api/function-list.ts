/**
 * @module GET /api/v1/functions?limit=: the caller's functions by content hash, with the calls that reached
 * each, how many failed (and the last failure's code) and when the last was (docs/functions.md "Call
 * counters"), the most recently called first. An owner's credential sees its own; a global one names the
 * owner (?owner=). Counted by this process since it started (functions/call-stats.ts).
 */
import type { FastifyInstance } from 'fastify';
import { FnError } from '@ferry/wasm-host';
import type { FunctionService } from '../functions/index.ts';
import { principalOf } from './auth.ts';
import { LIST_DEFAULT, LIST_MAX } from './command-lists.ts';

const OWNER = /^[A-Za-z0-9._-]{1,32}$/;

export function functionListRoutes(app: FastifyInstance, fns: FunctionService): void {
  app.get<{ Querystring: { owner?: string; limit?: string } }>('/api/v1/functions', { config: { access: 'viewer' } }, async (req, reply) => {
    const p = principalOf(req);
    const { owner: named, limit: rawLimit } = req.query;
    const limit = rawLimit === undefined ? LIST_DEFAULT : /^\d{1,4}$/.test(rawLimit) ? Number(rawLimit) : Number.NaN;
    const owner = p.owner ?? named;
    const bad = !(limit >= 1 && limit <= LIST_MAX)
      ? `limit is an integer from 1 to ${LIST_MAX}`
      : owner === undefined || !OWNER.test(owner)
        ? 'functions belong to owners: a global credential names one (?owner=<id>)'
        : undefined;
    if (bad !== undefined) {
      const e = new FnError('FERRY_FN_BAD_REQUEST', bad);
      return reply.code(e.status).send(e.toJSON());
    }
    return { owner, functions: fns.callStats.of(owner!, limit) };
  });
}
