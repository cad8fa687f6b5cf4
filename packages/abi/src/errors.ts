/**
 * @module The ABI error catalog (1000-1999): the statuses host functions return (1000 + |status|) and the
 * ways a module or a call can be refused by a host. docs/errors.md lists every catalog.
 */
import { defineErrors } from '@ferry/base';
import { STATUS, type StatusName } from './table.ts';

const ABI = defineErrors(
  'FERRY_ABI_',
  [1000, 1999],
  {
    FERRY_ABI_NOT_FOUND: { num: 1001, status: 404, doc: STATUS.NOT_FOUND.doc },
    FERRY_ABI_BUFFER_TOO_SMALL: { num: 1002, status: 400, doc: STATUS.BUFFER_TOO_SMALL.doc },
    FERRY_ABI_BAD_ARGUMENT: { num: 1003, status: 400, doc: STATUS.BAD_ARGUMENT.doc },
    FERRY_ABI_QUOTA_EXCEEDED: { num: 1004, status: 429, doc: STATUS.QUOTA_EXCEEDED.doc },
    FERRY_ABI_NO_SUCH_CHANNEL: { num: 1005, status: 404, doc: STATUS.NO_SUCH_CHANNEL.doc },
    FERRY_ABI_DEVICE_FAULT: { num: 1006, status: 502, doc: STATUS.DEVICE_FAULT.doc },
    FERRY_ABI_UNAVAILABLE: { num: 1007, status: 501, doc: STATUS.UNAVAILABLE.doc },
    FERRY_ABI_MALFORMED: { num: 1101, status: 400, doc: 'the bytes are not a valid wasm 1.0 module' },
    FERRY_ABI_UNKNOWN_IMPORT: { num: 1102, status: 400, doc: 'the module imports something that is not in the ABI table' },
    FERRY_ABI_IMPORT_SIGNATURE: { num: 1103, status: 400, doc: 'an ABI import is declared with the wrong parameter or result types' },
    FERRY_ABI_MISSING_EXPORT: { num: 1104, status: 400, doc: 'a required export (abi_version, boot, tick, memory) is missing' },
    FERRY_ABI_EXPORT_SIGNATURE: { num: 1105, status: 400, doc: 'a required export has the wrong signature' },
    FERRY_ABI_MEMORY: { num: 1106, status: 400, doc: 'the module has no own memory, imports one, declares no maximum, or exceeds the memory quota' },
    FERRY_ABI_VERSION: { num: 1107, status: 400, doc: "abi_version() differs from the host's ABI_VERSION" },
    FERRY_ABI_TRAP: { num: 1108, status: 422, doc: 'the module trapped (unreachable, out-of-bounds access, stack overflow); the instance is discarded' },
    FERRY_ABI_ABORT: { num: 1109, status: 422, doc: 'the module called sys.abort (an AssemblyScript abort); message, file and line are reported' },
    FERRY_ABI_OUT_OF_BOUNDS: { num: 1110, status: 422, doc: 'a (pointer, length) pair passed to a host function lies outside linear memory' },
    FERRY_ABI_DEAD: { num: 1111, status: 409, doc: 'the instance trapped or aborted earlier and must be re-instantiated (a new epoch)' },
    FERRY_ABI_TOO_LARGE: { num: 1112, status: 413, doc: 'the module is larger than the size limit' },
    FERRY_ABI_LIMIT: {
      num: 1113,
      status: 400,
      doc: 'the module declares more than a host allows: tables (or a table without a maximum), table entries, globals, functions, locals, element or data segments (docs/limits.md)',
    },
  },
  { package: '@ferry/abi', errorName: 'AbiError' },
);

export const ABI_ERRORS = ABI.codes;
export type AbiErrorCode = keyof typeof ABI_ERRORS;

export class AbiError extends ABI.Error {}

/** The catalog code for a negative status a host function returned. */
export function statusCode(status: number): AbiErrorCode | undefined {
  const entry = Object.entries(STATUS).find(([, s]) => s.value === status && status < 0);
  return entry === undefined ? undefined : (`FERRY_ABI_${entry[0] as StatusName}` as AbiErrorCode);
}
