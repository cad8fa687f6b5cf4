/**
 * @module The BTHome v2 object table (https://bthome.io/format/, "Sensor data", "Binary sensor data",
 * "Events" and "Device information" tables): object id -> property, wire size, signedness, factor, unit.
 * Cross-checked against the reference parser bthome-ble (PyPI) bthome_ble/const.py MEAS_TYPES and
 * event.py, release 3.25.0. All multi-byte values are little-endian.
 */

/** How an object's bytes are read. */
export type BthomeFormat = 'uint' | 'sint' | 'binary' | 'button' | 'command' | 'dimmer' | 'text' | 'raw' | 'timestamp' | 'firmware';

export interface BthomeObjectSpec {
  readonly id: number;
  /** Property name from the spec table (not unique: e.g. three temperature objects exist). */
  readonly name: string;
  readonly format: BthomeFormat;
  /** Wire size in bytes after the id; 0 means a one-byte length prefix follows (text, raw, command). */
  readonly size: number;
  /** Physical value = raw integer * factor. */
  readonly factor: number;
  /** Decimal places of the factor, used to round away binary floating-point noise (0.01 -> 2). */
  readonly decimals: number;
  readonly unit: string | null;
}

const decimalsOf = (factor: number): number => (String(factor).split('.')[1] ?? '').length;

function spec(id: number, name: string, format: BthomeFormat, size: number, factor = 1, unit: string | null = null): BthomeObjectSpec {
  return { id, name, format, size, factor, decimals: decimalsOf(factor), unit };
}
const u = (id: number, name: string, size: number, factor = 1, unit: string | null = null) => spec(id, name, 'uint', size, factor, unit);
const s = (id: number, name: string, size: number, factor = 1, unit: string | null = null) => spec(id, name, 'sint', size, factor, unit);
const bin = (id: number, name: string) => spec(id, name, 'binary', 1);

const TABLE: readonly BthomeObjectSpec[] = [
  // bthome.io/format "Misc data": packet id, 0..255, used by receivers to drop duplicates.
  u(0x00, 'packet_id', 1),
  // bthome.io/format "Sensor data".
  u(0x01, 'battery', 1, 1, '%'),
  s(0x02, 'temperature', 2, 0.01, '°C'),
  u(0x03, 'humidity', 2, 0.01, '%'),
  u(0x04, 'pressure', 3, 0.01, 'hPa'),
  u(0x05, 'illuminance', 3, 0.01, 'lux'),
  u(0x06, 'mass', 2, 0.01, 'kg'),
  u(0x07, 'mass', 2, 0.01, 'lb'),
  s(0x08, 'dewpoint', 2, 0.01, '°C'),
  u(0x09, 'count', 1),
  u(0x0a, 'energy', 3, 0.001, 'kWh'),
  u(0x0b, 'power', 3, 0.01, 'W'),
  u(0x0c, 'voltage', 2, 0.001, 'V'),
  u(0x0d, 'pm2_5', 2, 1, 'µg/m³'),
  u(0x0e, 'pm10', 2, 1, 'µg/m³'),
  // bthome.io/format "Binary sensor data": uint8, 0 = off/false, 1 = on/true.
  bin(0x0f, 'generic_boolean'),
  bin(0x10, 'power'),
  bin(0x11, 'opening'),
  u(0x12, 'co2', 2, 1, 'ppm'),
  u(0x13, 'tvoc', 2, 1, 'µg/m³'),
  u(0x14, 'moisture', 2, 0.01, '%'),
  bin(0x15, 'battery'),
  bin(0x16, 'battery_charging'),
  bin(0x17, 'carbon_monoxide'),
  bin(0x18, 'cold'),
  bin(0x19, 'connectivity'),
  bin(0x1a, 'door'),
  bin(0x1b, 'garage_door'),
  bin(0x1c, 'gas'),
  bin(0x1d, 'heat'),
  bin(0x1e, 'light'),
  bin(0x1f, 'lock'),
  bin(0x20, 'moisture'),
  bin(0x21, 'motion'),
  bin(0x22, 'moving'),
  bin(0x23, 'occupancy'),
  bin(0x24, 'plug'),
  bin(0x25, 'presence'),
  bin(0x26, 'problem'),
  bin(0x27, 'running'),
  bin(0x28, 'safety'),
  bin(0x29, 'smoke'),
  bin(0x2a, 'sound'),
  bin(0x2b, 'tamper'),
  bin(0x2c, 'vibration'),
  bin(0x2d, 'window'),
  u(0x2e, 'humidity', 1, 1, '%'),
  u(0x2f, 'moisture', 1, 1, '%'),
  // bthome.io/format "Events": button is one event byte; dimmer is an event byte plus a steps byte.
  spec(0x3a, 'button', 'button', 1),
  // A command event: a length byte (low 5 bits: the number of argument bytes; high 3 bits reserved), then an
  // opcode byte and the arguments (bthome-ble parser.py, data format "command").
  spec(0x3b, 'command', 'command', 0),
  spec(0x3c, 'dimmer', 'dimmer', 2),
  u(0x3d, 'count', 2),
  u(0x3e, 'count', 4),
  s(0x3f, 'rotation', 2, 0.1, '°'),
  u(0x40, 'distance', 2, 1, 'mm'),
  u(0x41, 'distance', 2, 0.1, 'm'),
  u(0x42, 'duration', 3, 0.001, 's'),
  u(0x43, 'current', 2, 0.001, 'A'),
  u(0x44, 'speed', 2, 0.01, 'm/s'),
  s(0x45, 'temperature', 2, 0.1, '°C'),
  u(0x46, 'uv_index', 1, 0.1),
  u(0x47, 'volume', 2, 0.1, 'L'),
  u(0x48, 'volume', 2, 1, 'mL'),
  u(0x49, 'volume_flow_rate', 2, 0.001, 'm³/h'),
  u(0x4a, 'voltage', 2, 0.1, 'V'),
  u(0x4b, 'gas', 3, 0.001, 'm³'),
  u(0x4c, 'gas', 4, 0.001, 'm³'),
  u(0x4d, 'energy', 4, 0.001, 'kWh'),
  u(0x4e, 'volume', 4, 0.001, 'L'),
  u(0x4f, 'water', 4, 0.001, 'L'),
  // Seconds since the Unix epoch, uint32.
  spec(0x50, 'timestamp', 'timestamp', 4, 1, 's'),
  u(0x51, 'acceleration', 2, 0.001, 'm/s²'),
  u(0x52, 'gyroscope', 2, 0.001, '°/s'),
  // Length-prefixed: one length byte, then that many bytes (UTF-8 for text).
  spec(0x53, 'text', 'text', 0),
  spec(0x54, 'raw', 'raw', 0),
  u(0x55, 'volume_storage', 4, 0.001, 'L'),
  u(0x56, 'conductivity', 2, 1, 'µS/cm'),
  s(0x57, 'temperature', 1, 1, '°C'),
  s(0x58, 'temperature', 1, 0.35, '°C'),
  s(0x59, 'count', 1),
  s(0x5a, 'count', 2),
  s(0x5b, 'count', 4),
  s(0x5c, 'power', 4, 0.01, 'W'),
  s(0x5d, 'current', 2, 0.001, 'A'),
  u(0x5e, 'direction', 2, 0.01, '°'),
  u(0x5f, 'precipitation', 2, 0.1, 'mm'),
  u(0x60, 'channel', 1),
  u(0x61, 'rotational_speed', 2, 1, 'rpm'),
  s(0x62, 'speed', 4, 0.000001, 'm/s'),
  s(0x63, 'acceleration', 4, 0.000001, 'm/s²'),
  u(0x64, 'light_level', 1),
  // A device's settings revision, uint8 (bthome-ble 3.25.0 SETTINGS_REVISION).
  u(0x65, 'settings_revision', 1),
  // bthome.io/format "Device information": not measurements, but they share the object id space.
  u(0xf0, 'device_type_id', 2),
  spec(0xf1, 'firmware_version', 'firmware', 4),
  spec(0xf2, 'firmware_version', 'firmware', 3),
];

/** Object id -> spec. */
export const BTHOME_OBJECTS: ReadonlyMap<number, BthomeObjectSpec> = new Map(TABLE.map((o) => [o.id, o]));

/** Button event codes, bthome.io/format "Events" (0x3A); 0x80 and 0x81 per bthome-ble event.py. */
export const BUTTON_EVENTS = {
  0x00: 'none',
  0x01: 'press',
  0x02: 'double_press',
  0x03: 'triple_press',
  0x04: 'long_press',
  0x05: 'long_double_press',
  0x06: 'long_triple_press',
  0x80: 'hold_press',
  0x81: 'hold_release',
} as const;
export type ButtonEvent = (typeof BUTTON_EVENTS)[keyof typeof BUTTON_EVENTS];

/** Command opcodes (0x3B, first data byte), bthome-ble event.py COMMAND_EVENTS. */
export const COMMAND_EVENTS = { 0x00: 'off', 0x01: 'on', 0x02: 'toggle', 0x03: 'step_up', 0x04: 'step_down' } as const;
export type CommandEvent = (typeof COMMAND_EVENTS)[keyof typeof COMMAND_EVENTS];
export const commandEvent = (code: number): CommandEvent | null => (COMMAND_EVENTS as Readonly<Record<number, CommandEvent>>)[code] ?? null;
/** The argument-length bits of a command object's length byte. */
export const COMMAND_ARGS_MASK = 0x1f;

/** Dimmer event codes (0x3C, first byte); the second byte is the number of steps. */
export const DIMMER_EVENTS = { 0x00: 'none', 0x01: 'rotate_left', 0x02: 'rotate_right' } as const;
export type DimmerEvent = (typeof DIMMER_EVENTS)[keyof typeof DIMMER_EVENTS];

export const buttonEvent = (code: number): ButtonEvent | null => (BUTTON_EVENTS as Readonly<Record<number, ButtonEvent>>)[code] ?? null;
export const dimmerEvent = (code: number): DimmerEvent | null => (DIMMER_EVENTS as Readonly<Record<number, DimmerEvent>>)[code] ?? null;

/** Inclusive range of the raw integer an object can carry. */
export function rawRange(o: BthomeObjectSpec): { readonly min: number; readonly max: number } {
  const size = o.format === 'dimmer' || o.format === 'command' ? 1 : o.size; // the event/opcode byte
  const bits = 8 * size;
  if (o.format === 'sint') return { min: -(2 ** (bits - 1)), max: 2 ** (bits - 1) - 1 };
  return { min: 0, max: 2 ** bits - 1 };
}

/** Wire type as docs/decoders.md prints it: "sint16", "uint8 (0/1)", "length + UTF-8", ... */
export function bthomeTypeLabel(o: BthomeObjectSpec): string {
  switch (o.format) {
    case 'uint':
    case 'sint':
      return `${o.format}${8 * o.size}`;
    case 'binary':
      return 'uint8 (0/1)';
    case 'button':
      return 'uint8 event';
    case 'command':
      return 'uint8 length + opcode + args';
    case 'dimmer':
      return 'uint8 event + uint8 steps';
    case 'text':
      return 'uint8 length + UTF-8';
    case 'raw':
      return 'uint8 length + bytes';
    case 'timestamp':
      return 'uint32 (Unix seconds)';
    case 'firmware':
      return `uint${8 * o.size} (version bytes)`;
  }
}

/** One Markdown table row per object, as docs/decoders.md lists them (objects.test.ts checks). */
export const bthomeDocRow = (o: BthomeObjectSpec): string =>
  `| 0x${o.id.toString(16).toUpperCase().padStart(2, '0')} | ${o.name} | ${bthomeTypeLabel(o)} | ${o.factor} | ${o.unit ?? ''} |`;
