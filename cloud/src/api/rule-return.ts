/**
 * @module Moving a rule job from a gateway back to the cloud (docs/cloud.md "The control channel", "Moving a
 * job back"). A gateway moves a job away over HTTP: it POSTs the relocation to `<targetResource>/api/move`,
 * without a credential. So the cloud's admin asks for the move here, `POST /api/v1/rules/return` with
 * `{gateway, jobId}`: the cloud makes a one-time ticket (256 random bits, bound to that gateway and job, valid
 * for RETURN_TICKET_MS), and through the gateway's control channel asks it to move the job to `cloud` at
 * `<this cloud>/api/rule-return/<ticket>`, at the cloud's public URL (CloudOptions.publicUrl, `--public-url`) or
 * else the address the admin's request came to. The gateway's POST to
 * `/api/rule-return/<ticket>/api/move` is taken once, for that job only, and installs the job here with its
 * window state; if the cloud refuses it the gateway keeps the job (RulesHost.moveOut puts it back).
 */
import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { ApiError, type RulesHost } from '@ferry/rules-host';
import { ControlError } from '@ferry/mqtt-rest';
import { DeviceError } from '../devices/errors.ts';
import type { GatewayRequest } from './gateways.ts';

/** How long a ticket is valid: the time a gateway has to hand the job over (docs/limits.md). */
export const RETURN_TICKET_MS = 30_000;
/** Tickets outstanding at most (moves are rare and one request each). */
const MAX_TICKETS = 64;
const GATEWAY = /^[A-Za-z0-9._-]{1,64}$/;

export interface RuleReturnParts {
  readonly rules: RulesHost;
  readonly gatewayRequest: GatewayRequest;
  /** Whether `id` is a registered gateway. */
  isGateway(id: string): boolean;
  /** Where the gateway reaches this API (no trailing slash); else the address the admin's request came to. */
  readonly publicUrl?: string | undefined;
  readonly now?: () => number;
}

export function ruleReturnRoutes(app: FastifyInstance, p: RuleReturnParts): void {
  const now = p.now ?? Date.now;
  const tickets = new Map<string, { gateway: string; jobId: string; until: number; state: 'waiting' | 'taken' | 'refused' }>();
  const sweep = (): void => {
    for (const [t, x] of tickets) if (x.until <= now()) tickets.delete(t);
  };

  app.post('/api/v1/rules/return', { config: { access: 'global' } }, async (req, reply) => {
    const b = (req.body ?? {}) as { gateway?: unknown; jobId?: unknown };
    if (typeof b.gateway !== 'string' || !GATEWAY.test(b.gateway) || typeof b.jobId !== 'string' || b.jobId.length === 0 || b.jobId.length > 256)
      throw new ApiError('FERRY_API_BAD_REQUEST', 'body must be {"gateway": "<gateway id>", "jobId": "<job id on that gateway>"}');
    const { gateway, jobId } = b;
    if (!p.isGateway(gateway)) throw new DeviceError('FERRY_DEVICE_NOT_FOUND', `no gateway ${gateway}`);
    sweep();
    if (tickets.size >= MAX_TICKETS) throw new ApiError('FERRY_API_MOVE_FAILED', `${MAX_TICKETS} moves back are under way; retry when one ends`);
    const ticket = randomBytes(32).toString('base64url');
    const entry: { gateway: string; jobId: string; until: number; state: 'waiting' | 'taken' | 'refused' } = {
      gateway,
      jobId,
      until: now() + RETURN_TICKET_MS,
      state: 'waiting',
    };
    tickets.set(ticket, entry);
    const here = p.publicUrl ?? `${req.protocol}://${req.host}`;
    try {
      const r = await p.gatewayRequest(gateway, 'POST', '/api/move', { jobId, target_runtime: 'cloud', targetResource: `${here}/api/rule-return/${ticket}` });
      // The job came here even when the gateway's reply did not come back: the move happened.
      if (r.status >= 300 && entry.state !== 'taken') return await reply.code(r.status).send(r.body);
    } catch (e) {
      if (entry.state !== 'taken') {
        const error = e instanceof ControlError ? e : new ControlError('FERRY_CTL_TIMEOUT', (e as Error).message, { cause: e });
        return reply.code(error.status).send(error.toJSON());
      }
    } finally {
      tickets.delete(ticket);
    }
    if (entry.state !== 'taken') throw new ApiError('FERRY_API_MOVE_FAILED', `gateway ${gateway} answered, but never handed job ${jobId} over`);
    return { jobId, from: `gateway:${gateway}`, to: 'cloud', jobInfo: p.rules.engine.status(jobId).jobInfo };
  });

  // The gateway's hand-over: no credential (the ticket is one), taken once, for the job it was made for.
  app.post<{ Params: { ticket: string } }>('/api/rule-return/:ticket/api/move', { config: { access: 'public' } }, async (req, reply) => {
    const t = tickets.get(req.params.ticket);
    if (t === undefined || t.state !== 'waiting' || t.until <= now())
      throw new ApiError('FERRY_API_NOT_FOUND', 'no such move ticket (unknown, used or expired)');
    const rel = (req.body ?? {}) as { jobInfo?: { jobId?: unknown } };
    if (rel.jobInfo?.jobId !== t.jobId) throw new ApiError('FERRY_API_BAD_REQUEST', `this ticket moves job ${t.jobId} only`);
    try {
      const info = p.rules.moveIn({ ...rel, target_runtime: p.rules.engine.runtime, targetResource: 'cloud' });
      t.state = 'taken';
      return await reply.code(201).send(info);
    } catch (e) {
      t.state = 'refused'; // the gateway keeps the job (it puts it back when refused); the ticket is spent
      throw e;
    }
  });
}
