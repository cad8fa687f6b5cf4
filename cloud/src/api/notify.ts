/**
 * @module The notification routes, under /api/v1/notify (docs/notifications.md "REST API"): channels,
 * subscriptions, deliveries, dead letters and their replay, and a test send. Reading needs a viewer,
 * changing an operator; every object belongs to an owner and another owner's answers 404
 * (FERRY_NOTIFY_NOT_FOUND). A global credential sees every owner's objects (`?owner=` narrows the lists) and
 * may act for one with `owner` in a body; without it, it makes global objects. Secrets are never answered.
 */
import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { TokenBuckets } from '@ferry/base';
import { AuthError } from '../identity/errors.ts';
import type { Identity } from '../identity/identity.ts';
import { mayActOn, type Principal, type Role } from '../identity/principal.ts';
import { channelFrom, channelView, namedOwner, subscriptionFrom } from '../notify/config.ts';
import { NotifyError } from '../notify/errors.ts';
import { checkEvent, NOTIFY_LIMITS, type Notifier } from '../notify/notifier.ts';
import { renderText } from '../notify/template.ts';
import { DELIVERY_STATES, type Channel, type Delivery, type DeliveryState, type Scope, type Subscription } from '../notify/types.ts';
import type { SecretSealer } from '../functions/tokens/sealed-secret.ts';
import { principalOf } from './auth.ts';

export interface NotifyApiParts {
  readonly notifier: Notifier;
  readonly identity: Identity;
  readonly sealer: SecretSealer;
  /** Whether an owner id is registered (a global credential may only act for one that is). */
  readonly ownerExists: (owner: string) => boolean;
}

/** Test sends per owner (docs/limits.md): 10 a minute. */
const TEST_RATE = { perSecond: 10 / 60, burst: 10 };
const BASE = '/api/v1/notify';
const read = { config: { access: 'viewer' as const } };
const change = { config: { access: 'operator' as const } };

/** The object if `p` may act on it with `need`; FERRY_NOTIFY_NOT_FOUND otherwise, so others' ids do not leak. */
function mine<T extends { readonly owner: string | undefined }>(p: Principal, x: T | undefined, need: Role, what: string, id: string): T {
  if (x === undefined || !mayActOn(p, x.owner, need)) throw new NotifyError('FERRY_NOTIFY_NOT_FOUND', `no ${what} ${id}`);
  return x;
}

/** What a listing covers: the caller's owner; for a global credential every owner, or the one `?owner=` names. */
function scopeOf(p: Principal, q: { owner?: string }): Scope {
  if (p.owner !== undefined) return { owner: p.owner };
  return q.owner === undefined ? 'all' : { owner: q.owner === '' ? undefined : q.owner };
}

function limitOf(raw: string | undefined, dflt: number, max: number): number {
  if (raw === undefined) return dflt;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > max) throw new NotifyError('FERRY_NOTIFY_BAD_REQUEST', `limit must be an integer 1..${max}`, { path: 'limit' });
  return n;
}

/** A delivery as listed: the event and the rendered subject, not the whole body (GET one delivery for that). */
const deliveryView = ({ message, ...d }: Delivery): Omit<Delivery, 'message'> & { subject: string; kind: string; source: string } => ({
  ...d,
  subject: message.subject,
  kind: message.event.kind,
  source: message.event.source,
});

export function notifyRoutes(app: FastifyInstance, parts: NotifyApiParts): void {
  const { notifier, identity, sealer } = parts;
  const store = notifier.store;
  const tests = new TokenBuckets({ maxEntries: 100_000 });
  const ownerFor = (p: Principal, body: unknown): string | undefined => {
    const owner = identity.ownerFor(p, namedOwner(body));
    if (owner !== undefined && !parts.ownerExists(owner)) throw new AuthError('FERRY_AUTH_NOT_FOUND', `no owner ${owner}`);
    return owner;
  };

  app.get<{ Querystring: { owner?: string } }>(`${BASE}/channels`, read, async (req) => {
    const cs = await store.listChannels(scopeOf(principalOf(req), req.query));
    return cs.map(channelView);
  });

  app.post(`${BASE}/channels`, change, async (req, reply) => {
    const owner = ownerFor(principalOf(req), req.body);
    if ((await store.listChannels({ owner })).length >= NOTIFY_LIMITS.channelsPerOwner)
      throw new NotifyError('FERRY_NOTIFY_LIMIT', `an owner has at most ${NOTIFY_LIMITS.channelsPerOwner} channels`);
    const made = channelFrom(req.body, { owner, sealer, allowPrivate: notifier.allowPrivateAddresses, now: Date.now() });
    await store.putChannel(made.channel);
    return reply.code(201).send({ ...channelView(made.channel), ...(made.secret !== undefined && { secret: made.secret }) });
  });

  app.get<{ Params: { id: string } }>(`${BASE}/channels/:id`, read, async (req) =>
    channelView(mine(principalOf(req), await store.getChannel(req.params.id), 'viewer', 'channel', req.params.id)),
  );

  app.put<{ Params: { id: string } }>(`${BASE}/channels/:id`, change, async (req) => {
    const existing = mine(principalOf(req), await store.getChannel(req.params.id), 'operator', 'channel', req.params.id);
    const made = channelFrom(req.body, { owner: existing.owner, sealer, allowPrivate: notifier.allowPrivateAddresses, now: Date.now(), existing });
    await store.putChannel(made.channel);
    return { ...channelView(made.channel), ...(made.secret !== undefined && { secret: made.secret }) };
  });

  app.delete<{ Params: { id: string } }>(`${BASE}/channels/:id`, change, async (req) => {
    const c = mine(principalOf(req), await store.getChannel(req.params.id), 'operator', 'channel', req.params.id);
    const using = (await store.listSubscriptions({ owner: c.owner })).filter((s) => s.channelId === c.id);
    if (using.length > 0) throw new NotifyError('FERRY_NOTIFY_IN_USE', `subscriptions ${using.map((s) => s.id).join(', ')} use channel ${c.id}`);
    await store.deleteChannel(c.id);
    return { id: c.id, removed: true };
  });

  app.get<{ Querystring: { owner?: string } }>(`${BASE}/subscriptions`, read, async (req) => store.listSubscriptions(scopeOf(principalOf(req), req.query)));

  app.post(`${BASE}/subscriptions`, change, async (req, reply) => {
    const p = principalOf(req);
    const owner = ownerFor(p, req.body);
    const s: Subscription = subscriptionFrom(req.body, { owner, now: Date.now() });
    const c = await store.getChannel(s.channelId);
    if (c === undefined || c.owner !== owner) throw new NotifyError('FERRY_NOTIFY_NOT_FOUND', `no channel ${s.channelId}`);
    if ((await store.listSubscriptions({ owner })).length >= NOTIFY_LIMITS.subscriptionsPerOwner)
      throw new NotifyError('FERRY_NOTIFY_LIMIT', `an owner has at most ${NOTIFY_LIMITS.subscriptionsPerOwner} subscriptions`);
    await store.putSubscription(s);
    return reply.code(201).send(s);
  });

  app.delete<{ Params: { id: string } }>(`${BASE}/subscriptions/:id`, change, async (req) => {
    const s = mine(principalOf(req), await store.getSubscription(req.params.id), 'operator', 'subscription', req.params.id);
    await store.deleteSubscription(s.id);
    return { id: s.id, removed: true };
  });

  app.get<{ Querystring: { state?: string; limit?: string; owner?: string } }>(`${BASE}/deliveries`, read, async (req) => {
    const { state } = req.query;
    if (state !== undefined && !(DELIVERY_STATES as readonly string[]).includes(state))
      throw new NotifyError('FERRY_NOTIFY_BAD_REQUEST', `state must be one of ${DELIVERY_STATES.join(', ')}`, { path: 'state' });
    const ds = await store.listDeliveries(scopeOf(principalOf(req), req.query), state as DeliveryState | undefined, limitOf(req.query.limit, 50, 500));
    return ds.map(deliveryView);
  });

  app.get<{ Params: { id: string } }>(`${BASE}/deliveries/:id`, read, async (req) =>
    mine(principalOf(req), await store.getDelivery(req.params.id), 'viewer', 'delivery', req.params.id),
  );

  app.get<{ Querystring: { limit?: string; owner?: string } }>(`${BASE}/dead-letters`, read, async (req) => {
    const ds = await store.listDeliveries(scopeOf(principalOf(req), req.query), 'dead', limitOf(req.query.limit, 50, 500));
    return ds.map(deliveryView);
  });

  app.post<{ Params: { id: string } }>(`${BASE}/dead-letters/:id/replay`, change, async (req) => {
    const d = mine(principalOf(req), await store.getDelivery(req.params.id), 'operator', 'dead letter', req.params.id);
    if (!(await store.replay(d.id, Date.now()))) throw new NotifyError('FERRY_NOTIFY_NOT_DEAD', `delivery ${d.id} is ${d.state}, not dead`);
    notifier.kick();
    return { id: d.id, state: 'queued' };
  });

  // Body {channelId, kind?, source?, data?}: one message now, outside the queue; answers how the channel took it.
  app.post(`${BASE}/test`, change, async (req) => {
    const p = principalOf(req);
    const b = (typeof req.body === 'object' && req.body !== null ? req.body : {}) as Record<string, unknown>;
    if (typeof b['channelId'] !== 'string') throw new NotifyError('FERRY_NOTIFY_BAD_REQUEST', 'channelId: a channel id', { path: 'channelId' });
    const c: Channel = mine(p, await store.getChannel(b['channelId']), 'operator', 'channel', b['channelId']);
    if (!tests.take(c.owner ?? '', TEST_RATE.perSecond, TEST_RATE.burst))
      throw new NotifyError('FERRY_NOTIFY_LIMIT', 'at most 10 test sends a minute per owner');
    const e = checkEvent(
      {
        owner: c.owner,
        kind: typeof b['kind'] === 'string' ? b['kind'] : 'notify.test',
        source: typeof b['source'] === 'string' ? b['source'] : 'ferry',
        at: Date.now(),
        priority: 'normal',
        data: (typeof b['data'] === 'object' && b['data'] !== null && !Array.isArray(b['data']) ? b['data'] : {}) as Record<string, unknown>,
      },
      `test-${randomUUID()}`,
    );
    const ctx = { ...e, priority: 'normal', time: new Date(e.at).toISOString() };
    const deliveryId = `t-${randomUUID()}`;
    await notifier.sendNow(c, deliveryId, {
      subject: renderText('Ferry test: {{kind}}', ctx),
      body: renderText('A test from {{source}} at {{time}}.', ctx),
      event: e,
    });
    return { channelId: c.id, delivery: deliveryId, acknowledged: true };
  });
}
