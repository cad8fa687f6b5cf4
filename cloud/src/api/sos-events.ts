/**
 * @module GET /api/v1/sos/{so}/streams/{stream}/events: server-sent events (the WHATWG HTML "Server-sent
 * events" format) of a stream's stored values, one `value` event per value with the value's idempotency key
 * as the event id, for anyone who may read the stream. A reader through a grant is checked again before
 * every value and whenever the object's access changes: when the grant is revoked (or the object deleted)
 * the stream sends one `end` event and closes. Open streams are bounded per owner (SSE_PER_OWNER), and all
 * end when the server closes.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { composeError } from '@ferry/compose';
import type { ComposeHost } from '../compose/host.ts';
import type { Caller, HostedOutput } from '../compose/hosting.ts';
import { principalOf } from './auth.ts';
import { SseStreams } from './sse.ts';

/** Open event streams per owner (per credential for a global one); docs/limits.md. */
export const SSE_PER_OWNER = 32;

/** The composite-stream caller a request's credential is. */
export function callerOf(req: FastifyRequest): Caller {
  const p = principalOf(req);
  return p.owner === undefined ? { global: true } : { owner: p.owner };
}

export function sosEventRoutes(app: FastifyInstance, host: ComposeHost): void {
  const streams = new SseStreams(app, SSE_PER_OWNER);

  app.get<{ Params: { so: string; stream: string } }>('/api/v1/sos/:so/streams/:stream/events', { config: { access: 'viewer' } }, async (req, reply) => {
    const { so, stream } = req.params;
    const caller = callerOf(req);
    if (!(await host.mayRead(caller, so, stream)) || host.engine.so(so)?.streams.has(stream) !== true)
      throw composeError('FERRY_COMPOSE_NOT_FOUND', 'no such stream', { so, stream });
    const owner = (await host.get(caller, so)).ok;
    const who = caller.owner ?? `global:${principalOf(req).id}`;
    if (streams.full(who)) throw composeError('FERRY_COMPOSE_QUOTA', `${SSE_PER_OWNER} event streams are open for this owner`, { so, stream });
    // Values go out in order: each waits for the one before (and, for a reader through a grant, its check).
    let chain: Promise<void> = Promise.resolve();
    let off = (): void => undefined;
    const sse = streams.open(req, reply, who, 'ferry events', () => off());
    const stillAllowed = async (): Promise<boolean> => owner || (await host.mayRead(caller, so, stream));
    const offOutput = host.onStored((o: HostedOutput) => {
      if (o.so !== so || o.stream !== stream) return;
      chain = chain.then(async () => {
        if (sse.ended) return;
        if (!(await stillAllowed())) return sse.end('access to the stream was revoked');
        sse.send('value', o.value, o.value.id);
      });
    });
    const offAccess = host.onAccessChange((id) => {
      if (id !== so) return;
      chain = chain.then(async () => {
        if (sse.ended) return;
        // Asked afresh (in scale-out this brings the worker's copy of the object up to date first).
        if (!(await host.mayRead(caller, so, stream)) || host.engine.so(so)?.streams.has(stream) !== true)
          sse.end('access to the stream ended: a grant revoked, or the object deleted or replaced without it');
      });
    });
    off = () => {
      offOutput();
      offAccess();
    };
  });
}
