/**
 * The thermostat decision as a cloud function (docs/functions.md): room readers post temperatures into a
 * namespace with their public tokens; an AssemblyScript function built from the test kit's
 * assembly/min-temperature.ts (against the firmware's ABI declarations) computes the minimum in the cloud, on both runners, and
 * agrees with the minimum computed directly.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildFixture } from '@ferry/test-kit/function-fixtures';
import { InProcessRunner } from './in-process-runner.ts';
import { PoolRunner } from './pool-runner.ts';
import type { Runner } from './runner.ts';
import { FunctionService } from './service.ts';
import { codeOf, ManualClock, owner, unwrap } from '@ferry/test-kit/functions';

const NONE = -(2 ** 31);
const fixed = (centi: number) => `${centi < 0 ? '-' : ''}${Math.floor(Math.abs(centi) / 100)}.${String(Math.abs(centi) % 100).padStart(2, '0')}`;
let bytes: Uint8Array;
let readerBytes: Uint8Array;
beforeAll(async () => {
  bytes = await buildFixture('min-temperature');
  readerBytes = await buildFixture('room-reader');
}, 60_000);

for (const [name, make] of [
  ['in-process', (c: ManualClock) => new InProcessRunner({ clock: c })],
  ['pool', (c: ManualClock) => new PoolRunner({ clock: c, size: 1, timeoutMs: 5000 })],
] as const) {
  describe(`min-temperature over a shared namespace (${name})`, () => {
    const clock = new ManualClock();
    const runner: Runner = make(clock);
    const svc = new FunctionService({ clock, runner });
    const home = owner('home-owner');
    let hash = '';
    afterAll(() => runner.close());

    it('room readers write, the cloud function returns the same minimum as computed directly', async () => {
      unwrap(svc.register(home.token));
      hash = unwrap(await svc.upload({ bytes, token: home.token, namespace: 'flat' })).hash;
      unwrap(svc.setWhitelisted(home.token, 'flat', hash, true));
      const thermostat = home.mint({ subject: 'thermostat', namespaces: ['flat'], functions: [hash] }, clock.nowMs());
      const call = (maxAgeMs: string) => svc.handleCall({ hash, export: 'min_temperature', args: [maxAgeMs], namespace: 'flat', token: thermostat });
      expect(unwrap(await call('-1')).value).toBe(NONE);

      // Each room reader posts through its own public token with the room-reader function; dev.id (the
      // token's subject) names its key, so readers cooperate without knowing each other.
      const reader = unwrap(await svc.upload({ bytes: readerBytes, token: home.token, namespace: 'flat' })).hash;
      unwrap(svc.setWhitelisted(home.token, 'flat', reader, true));
      const post = (room: string, centi: number) =>
        svc.handleCall({
          hash: reader,
          export: 'post_temperature',
          args: [centi],
          namespace: 'flat',
          token: home.mint({ subject: room, namespaces: ['flat'], functions: [reader], rate: { perSecond: 1, burst: 5 } }, clock.nowMs()),
        });
      const rooms = { kitchen: 2150, bedroom: 1875, hall: 2010, bath: 2290 };
      for (const [room, centi] of Object.entries(rooms)) expect(unwrap(await post(room, centi)).value).toBe(0);
      const state = svc.namespaces.state('home-owner', 'flat');
      expect(new TextDecoder().decode(state.get('temp.bedroom'))).toBe(`18.75 ${clock.nowMs()}`);
      state.set('setpoint', new TextEncoder().encode('20.00'));
      expect(unwrap(await call('-1')).value).toBe(Math.min(...Object.values(rooms)));
      // The thermostat's token may run only the minimum, not post readings.
      expect(codeOf(await svc.handleCall({ hash: reader, export: 'post_temperature', args: [0], namespace: 'flat', token: thermostat }))).toBe(
        'FERRY_FN_NOT_WHITELISTED',
      );

      // A reader gone quiet drops out once its stamp is older than the freshness bound.
      clock.advance(10 * 60_000);
      unwrap(await post('hall', 2010));
      expect(unwrap(await call(String(5 * 60_000))).value).toBe(2010);
      expect(unwrap(await call('-1')).value).toBe(1875);
    });

    it('agrees with the direct minimum for any set of readings (property)', async () => {
      const readings = fc.dictionary(fc.stringMatching(/^[a-z0-9]{1,8}$/), fc.integer({ min: -4000, max: 8500 }), { maxKeys: 40 });
      await fc.assert(
        fc.asyncProperty(readings, async (rs) => {
          const ns = `p${Math.random().toString(36).slice(2, 10)}`;
          unwrap(svc.setWhitelisted(home.token, ns, hash, true));
          const s = svc.namespaces.state('home-owner', ns);
          for (const [room, centi] of Object.entries(rs)) s.set(`temp.${room}`, new TextEncoder().encode(`${fixed(centi)} ${clock.nowMs()}`));
          s.set('tempo', new TextEncoder().encode('-99.00 0'));
          const r = await svc.handleCall({ hash, export: 'min_temperature', args: [-1n], namespace: ns, token: home.token });
          const values = Object.values(rs);
          expect(unwrap(r).value).toBe(values.length === 0 ? NONE : Math.min(...values));
        }),
        { numRuns: 40 },
      );
    });

    it("a room reader's token cannot run a function that is not white-listed", async () => {
      const reader = home.mint({ subject: 'kitchen', namespaces: ['flat'] }, clock.nowMs());
      unwrap(svc.setWhitelisted(home.token, 'flat', hash, false));
      expect(codeOf(await svc.handleCall({ hash, export: 'min_temperature', args: ['-1'], namespace: 'flat', token: reader }))).toBe(
        'FERRY_FN_NOT_WHITELISTED',
      );
    });
  });
}
