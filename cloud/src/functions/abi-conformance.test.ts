/**
 * The cloud runtime as one more host of the ABI conformance suite (packages/abi/src/conformance.case.ts):
 * the real thermostat firmware, uploaded by hash and driven through handleCall. The cloud
 * has no sensors or actuators (sensor.read and actuator.set return NO_SUCH_CHANNEL by design), so the
 * cases that need a room or a furnace are skipped, with that reason.
 */
import { readFileSync } from 'node:fs';
import { abiConformance, type ConformanceHost } from '@ferry/abi/conformance';
import { THERMOSTAT_WASM } from '@ferry/firmware/paths';
import { FunctionService } from './service.ts';
import { ManualClock, owner, unwrap } from '@ferry/test-kit/functions';

const NO_ROOM = 'the cloud has no sensors or actuators: sensor.read/actuator.set return NO_SUCH_CHANNEL';

abiConformance(
  'cloud runtime (in process)',
  async (): Promise<ConformanceHost> => {
    const clock = new ManualClock();
    const key = new Uint8Array(32).fill(0x5a);
    const deviceId = 'cloud-dev';
    const svc = new FunctionService({ clock, signSecretFor: (_owner, caller) => (caller === deviceId ? key : undefined) });
    // The owner's private token: dev.id is the owner, so the module signs as `cloud-dev`.
    const dev = owner(deviceId);
    unwrap(svc.register(dev.token));
    const { hash } = unwrap(await svc.upload({ bytes: readFileSync(THERMOSTAT_WASM), token: dev.token, namespace: 'home' }));
    const messages: string[] = [];
    let epoch = 0;
    const call = async (exp: string, args: number[] = []): Promise<number> => {
      const r = unwrap(await svc.handleCall({ hash, export: exp, args, namespace: 'home', token: dev.token }));
      messages.push(...r.emits);
      return r.value as number;
    };
    return {
      deviceId,
      key,
      boot: async () => {
        await call('boot', [++epoch]);
        return epoch;
      },
      tick: async (ms) => {
        clock.advance(ms);
        return call('tick');
      },
      setSensor: async () => undefined,
      setState: async (k, v) => void svc.namespaces.state(deviceId, 'home').set(k, new TextEncoder().encode(v)),
      furnace: async () => false,
      messages: async () => [...messages],
      abiVersion: () => call('abi_version'),
      close: () => svc.runner.close(),
    };
  },
  {
    skip: {
      'tick reads the sensor and emits telemetry with consecutive sequence numbers': NO_ROOM,
      'a cold room turns the furnace on after the minimum off time, and the decision is signed': NO_ROOM,
      'the setpoint comes from state': NO_ROOM,
      'the decision uses the minimum of fresh room readings in state; stale ones are ignored': NO_ROOM,
      'a sensor fault cuts the furnace off at once, overriding the minimum on time, and raises an alarm': NO_ROOM,
      'over-temperature cuts off at once': NO_ROOM,
      'a reboot starts a new epoch; no (epoch, seq) pair is ever reused': `${NO_ROOM}; without a sensor the first tick also emits a fault alarm and a decision, so the expected message list differs`,
    },
  },
);
