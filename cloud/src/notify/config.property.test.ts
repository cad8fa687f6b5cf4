/** The request checks of channels, subscriptions and events, by properties: any input is accepted or refused with a FERRY_NOTIFY_* error, never another failure, and a secret never shows in what the API answers. */
import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SecretSealer } from '../functions/tokens/sealed-secret.ts';
import { channelFrom, channelView, openSecret, subscriptionFrom } from './config.ts';
import { checkEvent } from './notifier.ts';
import type { NotifyEvent } from './types.ts';

const sealer = new SecretSealer(randomBytes(32), 'ferry notify channel secret');
const refusedOrOk = (f: () => unknown): void => {
  try {
    f();
  } catch (e) {
    expect(String((e as { code?: unknown }).code)).toMatch(/^FERRY_NOTIFY_/);
  }
};
const json = fc.jsonValue({ maxDepth: 3 });
const shaped = (kind: fc.Arbitrary<unknown>) =>
  fc.record(
    {
      kind,
      name: fc.option(fc.string(), { nil: undefined }),
      secret: fc.option(fc.string(), { nil: undefined }),
      config: fc.dictionary(fc.constantFrom('url', 'topic', 'host', 'port', 'from', 'to', 'timeoutMs', 'secure', 'user'), json),
    },
    { requiredKeys: ['kind'] },
  );

describe('channel, subscription and event checks', () => {
  it('accept or refuse any channel body with a FERRY_NOTIFY_* error', () => {
    fc.assert(
      fc.property(fc.oneof(json, shaped(fc.constantFrom('mqtt', 'webhook', 'email', 'pager'))), (body) => {
        refusedOrOk(() => channelFrom(body, { owner: 'alice', sealer, allowPrivate: false, now: 1 }));
      }),
    );
  });

  it('accept or refuse any subscription body with a FERRY_NOTIFY_* error', () => {
    const sub = fc.record(
      { channelId: json, kinds: json, source: json, minPriority: json, template: json, dedupKey: json, repeatS: json },
      { requiredKeys: [] },
    );
    fc.assert(fc.property(fc.oneof(json, sub), (body) => refusedOrOk(() => subscriptionFrom(body, { owner: 'alice', now: 1 }))));
  });

  it('accept or refuse any event with a FERRY_NOTIFY_* error', () => {
    const ev = fc.record({ owner: json, kind: json, source: json, at: json, priority: json, data: json }, { requiredKeys: [] });
    fc.assert(fc.property(ev, (e) => refusedOrOk(() => checkEvent(e as unknown as NotifyEvent, 'e1'))));
  });

  it('seal the secret it is given, open it again, and never show it', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 16, maxLength: 64 }), (secret) => {
        const { channel } = channelFrom(
          { kind: 'webhook', secret, config: { url: 'https://hooks.example.com/x' } },
          { owner: 'alice', sealer, allowPrivate: false, now: 1 },
        );
        expect(openSecret(sealer, channel)).toBe(secret);
        expect(JSON.stringify(channelView(channel))).not.toContain(JSON.stringify(secret).slice(1, -1));
        // Sealed for this channel: moved to another owner's channel it does not open.
        expect(() => openSecret(sealer, { ...channel, owner: 'bob' })).toThrow(/FERRY_NOTIFY_SECRET/);
      }),
    );
  });
});
