/** @module BLE test support: noble's HCI bindings over an emulated controller, and a started BleSource rig. */
export * from './hci-emulator.ts';
export * from './rig.ts';
