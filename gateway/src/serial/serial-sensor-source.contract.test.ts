/**
 * @module SerialSensorSource against the shared Source contract (sources/sources.case.ts), over the
 * serialport mock binding with a cable (mock-binding.fixture.ts) and a manual clock: inputs are PMS5003
 * frames in active mode, the fault is unplugging the port, and a failing start is a port that is not there.
 */
import { encodePmsFrame } from '../decoders/pms5003.ts';
import { sourceContract } from '../sources/sources.case.ts';
import { FakeClock } from '@ferry/test-kit/clock';
import { CableBinding } from '@ferry/test-kit/serial';
import { SerialSensorSource } from './serial-sensor-source.ts';

/** Lets the mock binding's promise and nextTick chains run (the manual clock does not drive them). */
const settle = async (rounds = 20): Promise<void> => {
  for (let i = 0; i < rounds; i++) await new Promise<void>((r) => setImmediate(r));
};

const pms = (pm2_5: number): Uint8Array => {
  const r = encodePmsFrame({
    pm1_0_cf1: 5,
    pm2_5_cf1: pm2_5 + 1,
    pm10_cf1: 9,
    pm1_0_atm: 5,
    pm2_5_atm: pm2_5,
    pm10_atm: 9,
    particles_0_3um: 1014,
    particles_0_5um: 282,
    particles_1_0um: 45,
    particles_2_5um: 3,
    particles_5_0um: 1,
    particles_10um: 0,
    reserved: 0,
  });
  if (!r.ok) throw r.error;
  return r.value;
};

let ports = 0;

sourceContract('SerialSensorSource', {
  delivers: 'reading',
  rig: async ({ failing = false } = {}) => {
    const path = `/dev/ttyCONTRACT${ports++}`; // a fresh mock port per source
    const binding = new CableBinding();
    if (!failing) binding.plug(path);
    const source = new SerialSensorSource({ path, kind: 'pms5003', binding, clock: new FakeClock() });
    let n = 0;
    return {
      source,
      input: async () => {
        binding.emit(path, pms(10 + n++));
        await settle();
        return undefined;
      },
      fault: async () => {
        binding.unplug(path);
        await settle();
      },
      settle: () => settle(),
      openHandles: () => (binding.isOpen(path) ? 1 : 0),
    };
  },
});
