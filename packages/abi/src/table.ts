/**
 * @module The ONE table of the device ABI: every host function a firmware module may import, and the
 * exports every host calls. AssemblyScript declarations, the TypeScript host interface, the C header with
 * WAMR NativeSymbol signatures and docs/abi.md are generated from this file (`npm run abi:gen`); CI
 * regenerates and diffs them (after Toit's src/primitive.h).
 */

/** Bumped when a function's meaning or signature changes; firmware exports `abi_version()` and hosts refuse a mismatch. */
export const ABI_VERSION = 1;

export type WasmType = 'i32' | 'i64' | 'f32' | 'f64';

/**
 * A parameter. `ptr` parameters are offsets into the module's linear memory and are ALWAYS followed by a
 * `len` parameter giving the buffer's byte length; WAMR then bounds-checks the pair for us (signature
 * chars `*~`, see WAMR doc/export_native_api.md) and every host checks the same range.
 */
export interface Param {
  readonly name: string;
  readonly type: 'i32' | 'i64';
  readonly kind: 'value' | 'ptr' | 'len';
  /** For a `ptr`: whether the host reads (`in`) or writes (`out`) the buffer. */
  readonly dir?: 'in' | 'out';
  readonly doc: string;
}

export interface HostFunction {
  readonly module: string;
  readonly name: string;
  readonly params: readonly Param[];
  readonly result: WasmType | 'void';
  readonly doc: string;
  /** ABI statuses (see STATUS below) this function may return. */
  readonly errors: readonly StatusName[];
}

export interface Export {
  readonly name: string;
  readonly params: readonly { readonly name: string; readonly type: WasmType; readonly doc: string }[];
  readonly result: WasmType | 'void';
  readonly doc: string;
  /** A module may leave it out (hosts then skip what it is for); every other export is required. */
  readonly optional?: boolean;
}

/**
 * Statuses returned by host functions (negative i32). On the wire and in logs they map to the 1xxx
 * range of the error catalog: code = 1000 + |status|.
 */
export const STATUS = {
  OK: { value: 0, doc: 'success' },
  NOT_FOUND: { value: -1, doc: 'no such key, or index past the end' },
  BUFFER_TOO_SMALL: { value: -2, doc: 'the out buffer is smaller than the value; nothing was written' },
  BAD_ARGUMENT: { value: -3, doc: 'an argument is out of range (empty or oversized key, bad length, bad level)' },
  QUOTA_EXCEEDED: { value: -4, doc: 'the state or emit quota of this module is used up' },
  NO_SUCH_CHANNEL: { value: -5, doc: 'no sensor or actuator on that channel' },
  DEVICE_FAULT: { value: -6, doc: 'the sensor or actuator did not answer or gave an implausible value' },
  UNAVAILABLE: { value: -7, doc: 'the capability is not provisioned on this host (e.g. no device key)' },
} as const;
export type StatusName = keyof typeof STATUS;

/** Limits every host enforces identically (conformance-tested). */
export const LIMITS = {
  /** Longest state key in bytes. */
  stateKeyMax: 64,
  /** Longest state value in bytes. */
  stateValueMax: 256,
  /** Longest message a module may emit (bytes); matches the envelope's size limit. */
  emitMax: 2048,
  /** Longest log line in bytes; longer lines are truncated by the host, not refused. */
  logMax: 256,
  /** Longest device id in bytes. */
  deviceIdMax: 32,
  /**
   * Longest command body `cmd.read` hands over (the `d` object of a signed command, bytes). A token is at
   * most emitMax bytes, three quarters of them decoded, so any verified command fits.
   */
  commandMax: 1536,
} as const;

/** What the host tells `command(verdict)` about the signed command it verified (docs/actions.md "On the board"). */
export const COMMAND_VERDICT = {
  /** Authentic, addressed to this device, fresh and in time: apply it. */
  APPLY: 0,
  /** Authentic but past its `exp` (beyond the downlink leeway): answer `rejected`, reason `expired`. */
  EXPIRED: 1,
  /** Authentic but its (ep, sq) is not above the highest accepted: answer `rejected`, reason `replayed`. */
  REPLAYED: 2,
  /** Authentic but without an `exp`: answer `rejected`, reason `invalid`. */
  INVALID: 3,
} as const;

/** What `command()` returns besides a negative status. */
export const COMMAND_RESULT = {
  /** Applied; a `cmd.ack` with status `acked` was emitted. */
  ACKED: 0,
  /** Applied and acked, and the module asks the host to reboot it (a new epoch) now. */
  REBOOT: 1,
  /** Not applied; a `cmd.ack` with status `rejected` was emitted. */
  REJECTED: 2,
} as const;

const ptr = (name: string, dir: 'in' | 'out', doc: string): Param => ({ name, type: 'i32', kind: 'ptr', dir, doc });
const len = (name: string, doc: string): Param => ({ name, type: 'i32', kind: 'len', doc });
const i32 = (name: string, doc: string): Param => ({ name, type: 'i32', kind: 'value', doc });

export const HOST_FUNCTIONS: readonly HostFunction[] = [
  {
    module: 'clock',
    name: 'now_ms',
    params: [],
    result: 'i64',
    errors: [],
    doc: 'Wall-clock time in Unix milliseconds. May jump (NTP, RTC set); use only for timestamps, never for ordering or intervals.',
  },
  {
    module: 'clock',
    name: 'uptime_ms',
    params: [],
    result: 'i64',
    errors: [],
    doc: 'Monotonic milliseconds since the host booted; never goes back. Use for intervals (minimum on/off times).',
  },
  {
    module: 'sensor',
    name: 'read',
    params: [
      i32('channel', 'sensor channel, 0 = the board temperature sensor'),
      ptr('out', 'out', 'where the host writes the reading'),
      len('out_len', 'must be 4'),
    ],
    result: 'i32',
    errors: ['NO_SUCH_CHANNEL', 'DEVICE_FAULT', 'BAD_ARGUMENT'],
    doc: 'Reads a sensor. Writes the value as a little-endian i32 in hundredths of the unit (centi-degrees Celsius for temperature). Returns 0 or a status.',
  },
  {
    module: 'actuator',
    name: 'set',
    params: [i32('channel', 'actuator channel, 0 = the furnace relay'), i32('value', '0 = off, 1 = on; other values are channel-specific')],
    result: 'i32',
    errors: ['NO_SUCH_CHANNEL', 'DEVICE_FAULT', 'BAD_ARGUMENT'],
    doc: 'Drives an actuator. Returns 0 or a status.',
  },
  {
    module: 'state',
    name: 'get',
    params: [
      ptr('key', 'in', 'key: printable ASCII (0x21..0x7e), so byte order is string order on every host'),
      len('key_len', 'key length, 1..stateKeyMax'),
      ptr('out', 'out', 'value buffer'),
      len('out_cap', 'value buffer capacity'),
    ],
    result: 'i32',
    errors: ['NOT_FOUND', 'BUFFER_TOO_SMALL', 'BAD_ARGUMENT'],
    doc: 'Reads a key of the namespace state (local on a board, shared per namespace in the cloud). Returns the value length, or a status.',
  },
  {
    module: 'state',
    name: 'set',
    params: [
      ptr('key', 'in', 'key: printable ASCII (0x21..0x7e), so byte order is string order on every host'),
      len('key_len', 'key length, 1..stateKeyMax'),
      ptr('value', 'in', 'value bytes'),
      len('value_len', 'value length, 0..stateValueMax'),
    ],
    result: 'i32',
    errors: ['BAD_ARGUMENT', 'QUOTA_EXCEEDED'],
    doc: 'Writes a key of the namespace state. Returns 0 or a status.',
  },
  {
    module: 'state',
    name: 'key_at',
    params: [
      ptr('prefix', 'in', 'key prefix, printable ASCII (may be empty)'),
      len('prefix_len', 'prefix length'),
      i32('index', 'zero-based index among matching keys in byte order'),
      ptr('out', 'out', 'key buffer'),
      len('out_cap', 'key buffer capacity'),
    ],
    result: 'i32',
    errors: ['NOT_FOUND', 'BUFFER_TOO_SMALL', 'BAD_ARGUMENT'],
    doc: 'Enumerates keys that start with a prefix, sorted by bytes. Returns the key length, or NOT_FOUND past the last key.',
  },
  {
    module: 'msg',
    name: 'emit',
    params: [ptr('data', 'in', 'a complete signed message (compact JWS)'), len('data_len', 'length, 1..emitMax')],
    result: 'i32',
    errors: ['BAD_ARGUMENT', 'QUOTA_EXCEEDED'],
    doc: 'Hands a finished message to the host for delivery (serial, MQTT, callback). Returns 0 or a status.',
  },
  {
    module: 'dev',
    name: 'id',
    params: [ptr('out', 'out', 'id buffer'), len('out_cap', 'capacity, at least deviceIdMax')],
    result: 'i32',
    errors: ['BUFFER_TOO_SMALL'],
    doc: "Writes this device's source id (the message `kid`, ASCII [A-Za-z0-9._-]). Returns its length.",
  },
  {
    module: 'dev',
    name: 'sign',
    params: [
      ptr('data', 'in', 'bytes to sign (the JWS signing input)'),
      len('data_len', 'length'),
      ptr('mac', 'out', 'where the 32-byte MAC goes'),
      len('mac_len', 'must be 32'),
    ],
    result: 'i32',
    errors: ['BAD_ARGUMENT', 'UNAVAILABLE'],
    doc: 'HMAC-SHA256 of the bytes with the device key. The key stays in the host (HMAC peripheral, mbedTLS or node:crypto) and never enters wasm memory. Returns 32 or a status.',
  },
  {
    module: 'cmd',
    name: 'read',
    params: [ptr('out', 'out', 'where the host writes the command body'), len('out_cap', 'capacity, at least commandMax')],
    result: 'i32',
    errors: ['NOT_FOUND', 'BUFFER_TOO_SMALL'],
    doc: 'Copies the body (`d`, JSON: `{"id", "cmd"}`) of the signed command being delivered, which the host has verified (signature with the downlink key, audience, event, expiry, replay window), into out. Returns its length; NOT_FOUND outside a `command()` call.',
  },
  {
    module: 'log',
    name: 'write',
    params: [i32('level', '0 debug, 1 info, 2 warn, 3 error'), ptr('text', 'in', 'UTF-8 text'), len('text_len', 'length')],
    result: 'void',
    errors: [],
    doc: 'Writes a log line. Longer than logMax is truncated; a bad level is logged as error.',
  },
  {
    module: 'sys',
    name: 'abort',
    params: [
      ptr('message', 'in', 'UTF-8 message'),
      len('message_len', 'length'),
      ptr('file', 'in', 'UTF-8 source file name'),
      len('file_len', 'length'),
      i32('line', 'line'),
      i32('column', 'column'),
    ],
    result: 'void',
    errors: [],
    doc: "AssemblyScript's abort, routed here by asconfig (`use: abort=...`). The host records the reason and traps; the instance is not used again.",
  },
];

export const EXPORTS: readonly Export[] = [
  { name: 'abi_version', params: [], result: 'i32', doc: 'The ABI_VERSION the module was built against; hosts refuse a mismatch.' },
  {
    name: 'boot',
    params: [{ name: 'epoch', type: 'i32', doc: 'boot counter, persisted and incremented by the host before every instantiation' }],
    result: 'i32',
    doc: 'Registers the device for this epoch (emits a boot message, sequence restarts at 0). Returns 0 or a negative status.',
  },
  { name: 'tick', params: [], result: 'i32', doc: 'One control step: read, decide, actuate, emit. Returns the furnace state (0/1) or a negative status.' },
  {
    name: 'command',
    params: [{ name: 'verdict', type: 'i32', doc: "the host's verdict on the command: 0 apply, 1 expired, 2 replayed, 3 invalid (COMMAND_VERDICT)" }],
    result: 'i32',
    optional: true,
    doc: 'A signed command for this device (read it with `cmd.read`): applies it when the verdict is 0 and emits one `cmd.ack` message. Returns 0 acked, 1 acked and reboot me, 2 rejected (COMMAND_RESULT), or a negative status (no answer: the body has no valid id). Optional: a module without it gets no commands.',
  },
];

/** WAMR signature of a host function: i32 `i`, i64 `I`, f32 `f`, f64 `F`, buffer `*` + length `~` (WAMR doc/export_native_api.md). */
export function wamrSignature(fn: HostFunction): string {
  const p = fn.params.map((x) => (x.kind === 'ptr' ? '*' : x.kind === 'len' ? '~' : x.type === 'i64' ? 'I' : 'i')).join('');
  const r = fn.result === 'void' ? '' : ({ i32: 'i', i64: 'I', f32: 'f', f64: 'F' } as const)[fn.result];
  return `(${p})${r}`;
}

/** Import name as seen in a module's import section. */
export const importName = (fn: HostFunction): string => `${fn.module}.${fn.name}`;

/** Validates the table itself (pointer/length pairing, unique names); the generator and a test call it. */
export function checkTable(): string[] {
  const problems: string[] = [];
  const seen = new Set<string>();
  for (const fn of HOST_FUNCTIONS) {
    const n = importName(fn);
    if (seen.has(n)) problems.push(`${n}: duplicate`);
    seen.add(n);
    fn.params.forEach((p, i) => {
      const next = fn.params[i + 1];
      if (p.kind === 'ptr' && next?.kind !== 'len') problems.push(`${n}: pointer ${p.name} is not followed by a length`);
      if (p.kind === 'len' && fn.params[i - 1]?.kind !== 'ptr') problems.push(`${n}: length ${p.name} does not follow a pointer`);
    });
    for (const e of fn.errors) if (!(e in STATUS)) problems.push(`${n}: unknown status ${e}`);
  }
  return problems;
}
