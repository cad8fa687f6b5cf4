/**
 * @module What the REST API accepts as a channel or a subscription (docs/notifications.md), checked with zod
 * into the stored shapes: every string and list bounded, templates compiled, webhook and SMTP addresses
 * checked, secrets sealed (never kept in clear, never answered back). A refusal is FERRY_NOTIFY_BAD_REQUEST
 * naming the field.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { z } from 'zod';
import { SecretSealer } from '../functions/tokens/sealed-secret.ts';
import { checkHost, checkWebhookUrl } from './channel-address.ts';
import { NotifyError } from './errors.ts';
import { compile } from './template.ts';
import { PRIORITIES, type Channel, type ChannelConfig, type Subscription } from './types.ts';

const name = z.string().min(1).max(64);
const timeoutMs = z.number().int().min(100).max(30_000);
const address = z
  .string()
  .max(254)
  .regex(/^[^\s@<>,;"]+@[^\s@<>,;"]+$/, 'an e-mail address');
const topic = z
  .string()
  .max(128)
  .regex(/^[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)*$/, 'topic levels of [A-Za-z0-9._-], no wildcards');

const channelConfig = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('mqtt'), config: z.strictObject({ topic: topic.default('events') }).default({ topic: 'events' }) }),
  z.object({ kind: z.literal('webhook'), config: z.strictObject({ url: z.string().max(2048), timeoutMs: timeoutMs.default(5000) }) }),
  z.object({
    kind: z.literal('email'),
    config: z.strictObject({
      host: z.string().min(1).max(253),
      port: z.number().int().min(1).max(65_535).default(587),
      secure: z.boolean().default(false),
      user: z.string().min(1).max(256).optional(),
      from: address,
      to: z.array(address).min(1).max(10),
      timeoutMs: timeoutMs.default(10_000),
    }),
  }),
]);

export const channelInput = z.intersection(
  z.object({ name: name.optional(), owner: z.string().optional(), secret: z.string().min(16).max(256).optional() }),
  channelConfig,
);

const kind = z
  .string()
  .max(64)
  .regex(/^(\*|[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*(\.\*)?)$/, "an event kind, a family 'x.*' or '*'");

export const subscriptionInput = z.strictObject({
  owner: z.string().optional(),
  channelId: z.string().min(1).max(64),
  kinds: z.array(kind).min(1).max(20),
  source: z.string().min(1).max(128).default('*'),
  minPriority: z.enum(PRIORITIES).default('low'),
  priority: z.enum(PRIORITIES).optional(),
  template: z.strictObject({ subject: z.string().max(512).optional(), body: z.string().optional() }).optional(),
  dedupKey: z.string().min(1).max(512).optional(),
  repeatS: z
    .number()
    .int()
    .min(0)
    .max(7 * 86_400)
    .default(0),
});

export const DEFAULT_TEMPLATE = { subject: '[{{priority}}] {{kind}} {{source}}', body: '{{kind}} from {{source}} at {{time}}: {{data}}' } as const;

function parse<T>(schema: z.ZodType<T>, body: unknown): T {
  const r = schema.safeParse(body ?? {});
  if (r.success) return r.data;
  const issue = r.error.issues[0];
  const path = issue?.path.join('.') ?? '';
  throw new NotifyError('FERRY_NOTIFY_BAD_REQUEST', `${path === '' ? 'body' : path}: ${issue?.message ?? 'invalid'}`, { path });
}

/** The owner a request body names (checked by the caller against the credential). */
export const namedOwner = (body: unknown): unknown => (typeof body === 'object' && body !== null ? (body as Record<string, unknown>)['owner'] : undefined);

/** The sealer of channel secrets under the master key (the service's, and the master key rotation's). */
export const notifySealer = (masterKey: Uint8Array): SecretSealer => new SecretSealer(masterKey, 'ferry notify channel secret');

/** The sealed secret's associated data: the channel's owner and id, so a sealed value cannot move to another channel. */
export const channelAad = (c: Pick<Channel, 'owner' | 'id'>): string => `${c.owner ?? ''}/${c.id}`;

/** Seals a channel secret: AES-GCM under the master key, bound to the channel's owner and id. */
export const sealSecret = (sealer: SecretSealer, owner: string | undefined, id: string, secret: string): string =>
  sealer.seal(channelAad({ owner, id }), Buffer.from(secret, 'utf8')).toString('base64');

export function openSecret(sealer: SecretSealer, c: Channel): string | undefined {
  if (c.sealedSecret === undefined) return undefined;
  const b = sealer.open(channelAad(c), Buffer.from(c.sealedSecret, 'base64'));
  if (b === undefined) throw new NotifyError('FERRY_NOTIFY_SECRET', `the secret of channel ${c.id} cannot be opened`);
  return Buffer.from(b).toString('utf8');
}

/**
 * A new channel (or the new version of `existing`) from a request body. A webhook without a secret gets one
 * made here, returned once as `secret`; an update without `secret` keeps the sealed one.
 */
export function channelFrom(
  body: unknown,
  o: { readonly owner: string | undefined; readonly sealer: SecretSealer; readonly allowPrivate: boolean; readonly now: number; readonly existing?: Channel },
): { channel: Channel; secret?: string } {
  const b = parse(channelInput, body);
  const cfg = { kind: b.kind, config: b.config } as ChannelConfig;
  if (o.existing !== undefined && o.existing.kind !== cfg.kind)
    throw new NotifyError('FERRY_NOTIFY_BAD_REQUEST', `kind: a ${o.existing.kind} channel cannot become ${cfg.kind}; make a new one`, { path: 'kind' });
  if (cfg.kind === 'webhook') checkWebhookUrl(cfg.config.url, o.allowPrivate);
  if (cfg.kind === 'email') checkHost(cfg.config.host, o.allowPrivate, 'config.host');
  const id = o.existing?.id ?? randomUUID();
  const made = cfg.kind === 'webhook' && b.secret === undefined && o.existing?.sealedSecret === undefined ? randomBytes(32).toString('hex') : undefined;
  const secret = b.secret ?? made;
  const sealedSecret = secret !== undefined ? sealSecret(o.sealer, o.owner, id, secret) : o.existing?.sealedSecret;
  const channel: Channel = {
    ...cfg,
    id,
    owner: o.owner,
    name: b.name ?? o.existing?.name ?? cfg.kind,
    createdAt: o.existing?.createdAt ?? o.now,
    ...(sealedSecret !== undefined && { sealedSecret }),
  };
  return made !== undefined ? { channel, secret: made } : { channel };
}

/** A new subscription from a request body; its channel is checked by the caller. */
export function subscriptionFrom(body: unknown, o: { readonly owner: string | undefined; readonly now: number }): Subscription {
  const b = parse(subscriptionInput, body);
  const template = { subject: b.template?.subject ?? DEFAULT_TEMPLATE.subject, body: b.template?.body ?? DEFAULT_TEMPLATE.body };
  compile(template.subject, 'template.subject');
  compile(template.body, 'template.body');
  if (b.dedupKey !== undefined) compile(b.dedupKey, 'dedupKey');
  return {
    id: randomUUID(),
    owner: o.owner,
    channelId: b.channelId,
    kinds: b.kinds,
    source: b.source,
    minPriority: b.minPriority,
    ...(b.priority !== undefined && { priority: b.priority }),
    template,
    ...(b.dedupKey !== undefined && { dedupKey: b.dedupKey }),
    repeatS: b.repeatS,
    createdAt: o.now,
  };
}

/** A channel as the API answers it: never its secret, only whether it has one. */
export function channelView({ sealedSecret, ...c }: Channel): Omit<Channel, 'sealedSecret'> & { hasSecret: boolean } {
  return { ...c, hasSecret: sealedSecret !== undefined };
}
