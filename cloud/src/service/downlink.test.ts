/** The cloud's side of the downlink: epoch, signer, bounded state snapshots, debounced publishing, signed replies. */
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { MAX_TOKEN_BYTES, verifyDownlink, type HmacKey } from '@ferry/message';
import { downlinkKey } from '@ferry/message/node';
import type { FunctionService } from '../functions/index.ts';
import { callRoute } from './calls.ts';
import { placeKey } from './projection.ts';
import { DownlinkSigner, nextDownlinkEpoch, SNAPSHOT_BODY_MAX, snapshotBody, StateDownlink } from './downlink.ts';
import { retainable } from './intake.ts';

const NOW = Date.UTC(2026, 11, 6, 5);
const keyOf = (id: string): Uint8Array => new Uint8Array(32).map((_, i) => i + id.length);
const devices = new Map<string, HmacKey>(['th-01', 'th-02', 'gw-1', 'k'.repeat(32)].map((id) => [id, downlinkKey(keyOf(id), id)]));
const signer = (): DownlinkSigner =>
  new DownlinkSigner(
    (id) => devices.get(id),
    1_796_000_000,
    () => NOW,
  );
const open = (token: string, aud: string) => verifyDownlink(token, downlinkKey(keyOf(aud), aud), { aud, nowMs: NOW });

afterEach(() => {
  vi.useRealTimers();
});

describe('downlink epoch', () => {
  it('is the Unix second, and grows across restarts even when the clock goes back', () => {
    const db = new Database(':memory:');
    expect(nextDownlinkEpoch(db, NOW)).toBe(NOW / 1000);
    expect(nextDownlinkEpoch(db, NOW)).toBe(NOW / 1000 + 1); // restarted within the same second
    expect(nextDownlinkEpoch(db, NOW - 3_600_000)).toBe(NOW / 1000 + 2); // clock set back an hour
    expect(nextDownlinkEpoch(db, NOW + 10_000)).toBe(NOW / 1000 + 10);
  });
});

describe('DownlinkSigner', () => {
  it('signs for registered devices only, with a sequence per device', () => {
    const s = signer();
    expect(s.sign('tool-7', 'fn.res', { id: 'x' })).toBe(undefined);
    expect(s.knows('tool-7')).toBe(false);
    const tokens = [s.sign('th-01', 'fn.res', 1), s.sign('th-02', 'fn.res', 2), s.sign('th-01', 'ns.state', 3)].map((r) => (r?.ok ? r.value : ''));
    expect(
      [open(tokens[0]!, 'th-01'), open(tokens[1]!, 'th-02'), open(tokens[2]!, 'th-01')].map((r) => r.ok && [r.value.ep, r.value.sq, r.value.body]),
    ).toEqual([
      [1_796_000_000, 0, 1],
      [1_796_000_000, 0, 2],
      [1_796_000_000, 1, 3],
    ]);
    expect(open(tokens[0]!, 'th-02').ok).toBe(false);
  });
});

describe('state snapshots', () => {
  it('keep the most recently changed entries that fit one token for any device, and say how many there are', () => {
    const entries = new Map<string, string>();
    for (let i = 0; i < 200; i++) entries.set(`temp.room-${String(i).padStart(3, '0')}`, `${(i % 400) / 10} ${NOW + i}`);
    const body = snapshotBody('flat', entries);
    expect(body.n).toBe(200);
    const kept = Object.keys(body.state);
    expect(kept.length).toBeGreaterThan(20);
    expect(kept.at(-1)).toBe('temp.room-199');
    expect(kept[0]).toBe(`temp.room-${200 - kept.length}`);
    expect(JSON.stringify(body).length).toBeLessThanOrEqual(SNAPSHOT_BODY_MAX);
    const s = new DownlinkSigner(
      (id) => devices.get(id),
      0xffff_ffff,
      () => 9_999_999_999_000,
    );
    const longest = 'k'.repeat(32);
    const t = s.sign(longest, 'ns.state', body);
    expect(t?.ok && t.value.length).toBeLessThanOrEqual(MAX_TOKEN_BYTES);
    expect(snapshotBody('flat', new Map([['a', '1']]))).toEqual({ ns: 'flat', n: 1, state: { a: '1' } });
  });

  it('are published retained per device of the namespace, at most once per interval, off the caller', () => {
    vi.useFakeTimers();
    const published: [string, string][] = [];
    const state = new Map([[placeKey(undefined, 'flat'), new Map([['temp.k', '21 1']])]]);
    const sd = new StateDownlink(
      {
        signer: signer(),
        stateOf: (ns) => state.get(ns),
        devices: () => [
          { id: 'th-01', namespace: 'flat' },
          { id: 'gw-1', namespace: 'flat' },
          { id: 'th-02', namespace: 'home' },
        ],
        publish: (t, p) => published.push([t, p]),
        log: () => undefined,
      },
      'ferry',
    );
    for (let i = 0; i < 100; i++) {
      state.get(placeKey(undefined, 'flat'))!.set('temp.k', `${i} 1`);
      sd.touch(placeKey(undefined, 'flat'));
    }
    expect(published).toEqual([]);
    vi.advanceTimersByTime(250);
    expect(published.map(([t]) => t)).toEqual(['ferry/dn/th-01/state', 'ferry/dn/gw-1/state']);
    const r = open(published[0]![1], 'th-01');
    expect(r.ok && r.value).toMatchObject({ ev: 'ns.state', body: { ns: 'flat', n: 1, state: { 'temp.k': '99 1' } } });
    vi.advanceTimersByTime(1000);
    expect(sd.published).toBe(2);
    sd.touch(placeKey(undefined, 'home'));
    sd.stop();
    vi.advanceTimersByTime(1000);
    expect(sd.published).toBe(2);
    // A reading that arrives while the service stops (after this stop, before the broker's) schedules
    // nothing: the registry's database is closed by then.
    sd.touch(placeKey(undefined, 'flat'));
    vi.advanceTimersByTime(1000);
    expect(sd.published).toBe(2);
    expect(retainable('ferry', 'ferry/dn/th-01/state')).toBe(true);
    expect(['ferry/dn/th-01/cmd', 'ferry/dn/th-01/state/x'].map((t) => retainable('ferry', t))).toEqual([false, false]);
  });
});

describe('function replies', () => {
  const fns = { handleCall: async () => ({ ok: true, value: { value: 12n, emits: [], logs: [] } }) } as unknown as FunctionService;
  const call = async (replyTo: string, payload: string): Promise<[string, string]> => {
    const out: [string, string][] = [];
    callRoute(fns, 'ferry', (t, p) => out.push([t, p]), signer()).handle(`ferry/fn/${replyTo}/call`, Buffer.from(payload));
    await vi.waitFor(() => expect(out.length).toBe(1));
    return out[0]!;
  };

  it('are signed for a registered device or gateway, plain JSON for anyone else', async () => {
    const [topic, token] = await call('th-01', JSON.stringify({ id: 'a.1' }));
    expect(topic).toBe('ferry/fn/th-01/res');
    const r = open(token, 'th-01');
    expect(r.ok && r.value).toMatchObject({ ev: 'fn.res', exp: NOW / 1000 + 60, body: { id: 'a.1', ok: true, value: '12', emits: [], logs: [] } });
    expect(open((await call('gw-1', 'not json'))[1], 'gw-1')).toMatchObject({
      ok: true,
      value: { body: { ok: false, error: { code: 'FERRY_FN_BAD_REQUEST' } } },
    });
    expect(JSON.parse((await call('bench', JSON.stringify({ id: 'b.1' })))[1])).toEqual({ id: 'b.1', ok: true, value: '12', emits: [], logs: [] });
  });
});
