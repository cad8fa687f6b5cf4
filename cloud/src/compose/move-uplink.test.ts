import { describe, expect, it } from 'vitest';
import type { IngestEvent } from '../ingest/index.ts';
import { soUplinkOf } from './move-uplink.ts';

const message = (kid: string, topic: string | undefined, ev: string): IngestEvent => ({
  type: 'message',
  kid,
  stream: `${kid}/x`,
  ep: 1,
  sq: 0,
  at: 0,
  topic,
  message: { header: { kid, ep: 1, sq: 0 }, claims: { iss: kid, iat: 1, ev, d: { kind: 'output' } } },
});

describe('soUplinkOf', () => {
  it("takes a gateway's own so message on its own topic, and nothing else", () => {
    expect(soUplinkOf(message('gw', 'ferry/up/gw/so', 'so'))).toEqual({ gateway: 'gw', d: { kind: 'output' } });
    expect(soUplinkOf(message('board', 'ferry/up/gw/so', 'so'))).toBeUndefined(); // another identity's message
    expect(soUplinkOf(message('gw', 'ferry/up/gw/so', 'reading'))).toBeUndefined();
    expect(soUplinkOf(message('gw', 'ferry/up/gw/rule', 'so'))).toBeUndefined();
    expect(soUplinkOf(message('gw', undefined, 'so'))).toBeUndefined();
    expect(soUplinkOf({ type: 'gap', kid: 'gw', ep: 1, from: 0, to: 1 })).toBeUndefined();
  });
});
