/**
 * @module The serial sensor error catalog (5300-5399): every way a serial sensor port can fail has one code
 * FERRY_GW_SERIAL_* and one number. Frames the decoders refuse keep their own FERRY_DECODE_* codes
 * (gateway/src/decoders/errors.ts). docs/errors.md lists every catalog. Runtime problems go to
 * `sink.problem`, never thrown; only bad constructor options throw (that is configuration time).
 */
import { defineErrors } from '@ferry/base';
import type { SourceProblem } from '../sources/types.ts';

const SERIAL_SENSOR = defineErrors(
  'FERRY_GW_SERIAL_',
  [5300, 5399],
  {
    FERRY_GW_SERIAL_BAD_OPTIONS: {
      num: 5301,
      status: 400,
      doc: 'the source options are invalid (unknown sensor kind, a non-positive interval, a timeout not shorter than the interval); thrown by the constructor',
    },
    FERRY_GW_SERIAL_PORT_MISSING: {
      num: 5302,
      status: 503,
      doc: 'the port cannot be opened because the device does not exist (unplugged USB adapter, wrong path, UART not enabled); retried with back-off',
    },
    FERRY_GW_SERIAL_PERMISSION: {
      num: 5303,
      status: 503,
      doc: 'the port cannot be opened: permission denied (add the daemon user to the dialout group); retried with back-off',
    },
    FERRY_GW_SERIAL_PORT_BUSY: {
      num: 5304,
      status: 503,
      doc: 'the port is locked or in use by another process (a serial console getty, another daemon); retried with back-off',
    },
    FERRY_GW_SERIAL_OPEN_FAILED: { num: 5305, status: 503, doc: 'the port cannot be opened for another reason (the message names it); retried with back-off' },
    FERRY_GW_SERIAL_PORT_GONE: {
      num: 5306,
      status: 503,
      doc: 'an open port closed by itself (unplugged, or the device vanished); the source goes down and re-opens it with back-off',
    },
    FERRY_GW_SERIAL_IO: { num: 5307, status: 502, doc: 'a read or write on an open port failed (the message names the error)' },
    FERRY_GW_SERIAL_NO_ANSWER: {
      num: 5308,
      status: 504,
      doc: 'a polled sensor (MH-Z19, PMS5003 in passive mode) did not answer a read command within the response timeout',
    },
    FERRY_GW_SERIAL_SILENT: {
      num: 5309,
      status: 504,
      doc: 'a streaming sensor (PMS5003 in active mode) sent no valid frame for the silence period (TX wire, power, or a sensor stuck in passive mode)',
    },
    FERRY_GW_SERIAL_INTERNAL: {
      num: 5310,
      status: 500,
      doc: 'the sink threw while taking a reading or a problem; the exception is caught and counted (internal_errors), and the source keeps running',
    },
  },
  { package: '@ferry/gateway', errorName: 'SerialSensorError' },
);

export const SERIAL_SENSOR_ERRORS = SERIAL_SENSOR.codes;
export type SerialSensorErrorCode = keyof typeof SERIAL_SENSOR_ERRORS;

/** Thrown only for invalid options (FERRY_GW_SERIAL_BAD_OPTIONS). */
export class SerialSensorError extends SERIAL_SENSOR.Error {}

/** A problem for `sink.problem`, message prefixed with its code like the thrown errors. */
export const serialProblem = (code: SerialSensorErrorCode, detail: string, device: string): SourceProblem => ({
  code,
  message: `${code}: ${detail}`,
  device,
});

/**
 * Sorts an open failure. The native binding (@serialport/bindings-cpp) rejects with messages such as
 * "Error: No such file or directory, cannot open /dev/ttyUSB0" and no `code`, so the text is read too.
 */
export function classifyOpenError(err: unknown): SerialSensorErrorCode {
  const e = err as { code?: unknown; message?: unknown } | null;
  const text = `${typeof e?.code === 'string' ? e.code : ''} ${typeof e?.message === 'string' ? e.message : String(err)}`;
  if (/ENOENT|ENODEV|ENXIO|No such file|No such device|does not exist/i.test(text)) return 'FERRY_GW_SERIAL_PORT_MISSING';
  if (/EACCES|EPERM|Permission denied|not permitted/i.test(text)) return 'FERRY_GW_SERIAL_PERMISSION';
  if (/EBUSY|locked|Resource temporarily unavailable|busy/i.test(text)) return 'FERRY_GW_SERIAL_PORT_BUSY';
  return 'FERRY_GW_SERIAL_OPEN_FAILED';
}
