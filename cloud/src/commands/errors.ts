/**
 * @module The command catalog (7600-7699): every way sending, broadcasting, cancelling or reading a command
 * to a device is refused has one code (FERRY_CMD_*), one number and one HTTP status (docs/actions.md
 * "Errors"). Sub-ranges: 760x the request, 761x the device and the queue, 762x limits, 763x a command's state.
 */
import { defineErrors } from '@ferry/base';

const CMD = defineErrors(
  'FERRY_CMD_',
  [7600, 7699],
  {
    FERRY_CMD_BAD_REQUEST: {
      num: 7601,
      status: 400,
      doc: 'a command request is malformed: a field missing or of the wrong type, a command that is not a JSON object, a ttl or priority out of range, an unknown target',
    },
    FERRY_CMD_TOO_LARGE: { num: 7602, status: 413, doc: 'a command body is larger than 1024 bytes of JSON, or a batch larger than 10 items or 1 MiB' },
    FERRY_CMD_DEVICE_NOT_FOUND: { num: 7610, status: 404, doc: 'no device with this id among those the credential may command' },
    FERRY_CMD_QUEUE_FULL: {
      num: 7611,
      status: 429,
      doc: "the device's queue is at its depth and the overflow policy is reject-new (or nothing of lower priority could be dropped); retry once it drains",
    },
    FERRY_CMD_NO_DEVICES: { num: 7612, status: 404, doc: 'a broadcast target matches no device of the owner' },
    FERRY_CMD_RATE_LIMITED: { num: 7620, status: 429, doc: "the owner's command or broadcast rate is used up; retry later" },
    FERRY_CMD_TOO_MANY_DEVICES: { num: 7621, status: 413, doc: 'a broadcast target names or matches more devices than one broadcast may reach' },
    FERRY_CMD_NOT_FOUND: { num: 7630, status: 404, doc: 'no command or broadcast with this id among those the credential may see' },
    FERRY_CMD_FINISHED: { num: 7631, status: 409, doc: 'the command is acked, rejected, expired or failed already: there is nothing to cancel' },
  },
  { package: '@ferry/cloud', errorName: 'CommandError' },
);

export const CMD_ERRORS = CMD.codes;
export type CommandErrorCode = keyof typeof CMD_ERRORS;

export class CommandError extends CMD.Error {
  constructor(code: CommandErrorCode, detail: string) {
    super(code, detail);
  }
}
