/** @module The rules are fed off the ingest path: queued by ingest, run a bounded number per turn, with back-pressure. */
import { RulesHost } from '@ferry/rules-host';
import { describe, expect, it } from 'vitest';
import type { IngestEvent } from '../ingest/index.ts';
import { TIME_LEEWAY_S } from '@ferry/message';
import { RulesFeed, relayable, relayedTopic, ruleInput } from './rules.ts';

const event = (sq: number): IngestEvent =>
  ({
    type: 'message',
    kid: 'th-1',
    ep: 1,
    sq,
    topic: 'ferry/up/th-1/msg',
    message: { header: { kid: 'th-1', ep: 1, sq }, claims: { iss: 'th-1', iat: 1_767_225_600 + sq, ev: 'tel', d: { t: sq } } },
  }) as unknown as IngestEvent;

describe('RulesFeed', () => {
  // Regression: cloud rules ran inside the ingest commit, on the broker's turn of the event loop, so a costly
  // rule froze the broker (600 messages: 7.25 s).
  it('queues what ingest releases and runs it later, in order, a bounded number per turn', async () => {
    const seen: number[] = [];
    const host = new RulesHost({ runtime: 'cloud', publish: () => undefined });
    host.input = (_topic, record) => {
      seen.push((record as { t: number }).t);
    };
    const feed = new RulesFeed(host, { perTurn: 10, highWater: 25 });
    for (let sq = 0; sq < 30; sq++) feed.push(event(sq));
    expect(seen).toEqual([]); // nothing ran on ingest's turn
    expect(feed.backlog).toBe(30);
    expect(feed.busy).toBe(true); // above the high-water mark: the intake holds back
    await new Promise((r) => setImmediate(r));
    expect(seen.length).toBe(10); // one turn: at most perTurn
    expect(feed.busy).toBe(false);
    for (let i = 0; i < 5 && seen.length < 30; i++) await new Promise((r) => setImmediate(r));
    expect(seen).toEqual(Array.from({ length: 30 }, (_, i) => i));
    expect(feed.backlog).toBe(0);
  });
});

describe('relaying a gateway rule output', () => {
  it('only to topics under the prefix outside every identity space, so a gateway never speaks for another', () => {
    expect(['ferry/agg/hot', 'ferry/out/x/y'].map((t) => relayable('ferry', t))).toEqual([true, true]);
    const refused = [
      'ferry/up/th-01/msg',
      'ferry/fn/th-01/res',
      'ferry/dn/th-01/state',
      'ferry/ns/home/state/k',
      'ferry/ctl/gw/req',
      'ferry/gw/g/status',
      'other/x',
      'ferry',
    ];
    expect(refused.filter((t) => relayable('ferry', t))).toEqual([]);
  });

  it("takes the topic from a rule output on the gateway's own <p>/up/<gw>/rule only, and only a topic name", () => {
    const out = (topic: string, arrived: string, kid = 'gw-1'): IngestEvent =>
      ({
        type: 'message',
        kid,
        ep: 1,
        sq: 0,
        topic: arrived,
        message: { header: { kid, ep: 1, sq: 0 }, claims: { iss: kid, iat: 1, ev: 'rule', d: { topic, out: { n: 1 } } } },
      }) as unknown as IngestEvent;
    expect(relayedTopic(out('ferry/agg/x', 'ferry/up/gw-1/rule'))).toBe('ferry/agg/x');
    expect(relayedTopic(out('ferry/agg/x', 'ferry/up/gw-2/rule'))).toBeUndefined(); // not its own
    expect(relayedTopic(out('ferry/agg/x', 'ferry/up/gw-1/hot'))).toBeUndefined(); // on its own topic: no relay
    for (const bad of ['ferry/agg/#', 'ferry/+/x', 'ferry/a\u0000b', '', 'x'.repeat(257)])
      expect([bad.slice(0, 12), relayedTopic(out(bad, 'ferry/up/gw-1/rule'))]).toEqual([bad.slice(0, 12), undefined]);
    expect(relayedTopic(event(0))).toBeUndefined();
  });
});

describe('the time a cloud rule takes a device message at', () => {
  const at = (iatS: number, arrivedMs: number) =>
    ruleInput({
      type: 'message',
      kid: 'th-1',
      ep: 1,
      sq: 0,
      at: arrivedMs,
      topic: 'ferry/up/th-1/msg',
      message: { header: { kid: 'th-1', ep: 1, sq: 0 }, claims: { iss: 'th-1', iat: iatS, ev: 'tel', d: { t: 1 } } },
    } as unknown as IngestEvent)?.atMs;

  it("is the message's iat, but never more than the leeway past its arrival: one clock far ahead cannot move a job's time for every device", () => {
    const arrived = 1_767_225_600_000;
    expect(at(1_767_225_590, arrived)).toBe(1_767_225_590_000); // a clock behind: its own time
    expect(at(1_767_225_630, arrived)).toBe(1_767_225_630_000); // within the leeway
    expect(at(1_767_225_600 + 86_400, arrived)).toBe(arrived + TIME_LEEWAY_S * 1000); // a day ahead: held at the leeway
  });
});
