/** The board host's downlink gate: what it opens, what it refuses and counts, and a window that outlives the host. */
import { describe, expect, it } from 'vitest';
import { DownlinkWindow, signDownlink, type DownlinkEvent, type HmacKey, type Json } from '@ferry/message';
import { downlinkKey, hmacKey } from '@ferry/message/node';
import { EmulatedBoard } from './board.ts';

const key = new Uint8Array(32).map((_, i) => i + 100);
const NOW = Date.UTC(2026, 11, 6, 5);
const cloudKey = downlinkKey(key, 'th-01');
const signed = (o: { ev?: DownlinkEvent; ep?: number; sq: number; aud?: string; ttlMs?: number; body?: Json }, k: HmacKey = cloudKey): string => {
  const r = signDownlink(
    {
      aud: o.aud ?? 'th-01',
      ev: o.ev ?? 'ns.state',
      ep: o.ep ?? 7,
      sq: o.sq,
      nowMs: NOW,
      body: o.body ?? { ns: 'flat', n: 0, state: {} },
      ...(o.ttlMs !== undefined && { ttlMs: o.ttlMs }),
    },
    k,
  );
  if (!r.ok) throw r.error;
  return r.value;
};

describe('DownlinkReceiver of an emulated board', () => {
  it('opens what the cloud signed for this board with the key derived from the board key, and refuses and counts the rest', async () => {
    const b = await EmulatedBoard.create({ key, downlink: { nowMs: () => NOW } });
    const r = b.downlink;
    expect(r.open(signed({ sq: 0 }), 'ns.state')).toMatchObject({ ev: 'ns.state', ep: 7, sq: 0 });
    expect(r.open(signed({ sq: 0 }), 'ns.state')).toBe(undefined); // replayed
    expect(r.open(signed({ sq: 1 }, hmacKey(key)), 'ns.state')).toBe(undefined); // the device key itself
    expect(r.open(signed({ sq: 2, aud: 'th-02' }, downlinkKey(key, 'th-02')), 'ns.state')).toBe(undefined); // another board's
    expect(r.open(signed({ sq: 3, ev: 'fn.res' }), 'ns.state')).toBe(undefined); // another kind than expected
    expect(r.open(signed({ sq: 4, ev: 'fn.res', ttlMs: -60_000 }), 'fn.res')).toBe(undefined); // expired
    expect(r.open('{"ns":"flat","state":{"temp.x":"-39 0"}}', 'ns.state')).toBe(undefined); // unsigned
    expect(r.open(signed({ sq: 5 }), 'ns.state')).toMatchObject({ sq: 5 });
    expect(r.forged).toBe(6);
    expect(Object.fromEntries(r.refused)).toEqual({
      replayed: 1,
      FERRY_MSG_BAD_SIGNATURE: 2,
      FERRY_MSG_WRONG_EVENT: 1,
      FERRY_MSG_EXPIRED: 1,
      FERRY_MSG_SEGMENTS: 1,
    });
  });

  it('keeps replays refused across a restart of the host when it persists the window', async () => {
    let saved: unknown;
    const first = await EmulatedBoard.create({
      key,
      downlink: { nowMs: () => NOW, onAccept: () => (saved = JSON.parse(JSON.stringify(first.downlink.window))) },
    });
    const old = signed({ sq: 4 });
    expect(first.downlink.open(old, 'ns.state')).toBeDefined();
    const again = await EmulatedBoard.create({ key, downlink: { nowMs: () => NOW, window: DownlinkWindow.from(saved) } });
    expect(again.downlink.open(old, 'ns.state')).toBe(undefined);
    expect(again.downlink.open(signed({ ep: 8, sq: 0 }), 'ns.state')).toBeDefined(); // the cloud restarted
    const fresh = await EmulatedBoard.create({ key, downlink: { nowMs: () => NOW } });
    expect(fresh.downlink.open(old, 'ns.state')).toBeDefined(); // without the saved window it could not tell
  });
});
