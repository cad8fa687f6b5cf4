/**
 * @module BleSource against the shared Source contract (sources/sources.case.ts), over noble's own HCI code
 * and the emulated controller: inputs are BTHome adverts, the fault is the adapter powering off, and a
 * failing start is bindings that cannot be made (no native HCI socket).
 */
import { bthomeAdv, EmulatedController, emulatedHciBindings, lastController, settle } from '@ferry/test-kit/ble';
import { FakeClock } from '@ferry/test-kit/clock';
import { sourceContract } from '../sources/sources.case.ts';
import { BleSource } from './ble-source.ts';

sourceContract('BleSource', {
  delivers: 'reading',
  rig: async ({ failing = false } = {}) => {
    const firstController = EmulatedController.created.length;
    const source = new BleSource({
      clock: new FakeClock(),
      bindings: failing
        ? () => {
            throw new Error('No native build was found for this platform');
          }
        : emulatedHciBindings,
    });
    let packetId = 0;
    return {
      source,
      // A new packet id (object 0x00) each time, so the advert is not a repeat: 25.06 °C (bthome.io/format example).
      input: async () => {
        const id = (packetId++ & 0xff).toString(16).padStart(2, '0');
        lastController().advertise('A4:C1:38:00:11:22', bthomeAdv(`4000${id}02ca09`), { rssi: -60 });
        await settle(3);
        return undefined;
      },
      fault: async () => {
        lastController().powerOff();
        await settle();
      },
      settle: () => settle(),
      openHandles: () => EmulatedController.created.slice(firstController).filter((c) => !c.stopped).length,
    };
  },
});
