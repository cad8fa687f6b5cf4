/**
 * @module The alarm catalog (8000-8099): every way the alarm service refuses a request has one code
 * (FERRY_ALARM_*), one number and one HTTP status. Sub-ranges: 800x a rule request, 801x what it names
 * (metric, device, stream, gateway), 802x alarms, 803x limits. docs/operations.md "Alarms" says when each
 * occurs; docs/errors.md lists them.
 */
import { defineErrors } from '@ferry/base';

const ALARM = defineErrors(
  'FERRY_ALARM_',
  [8000, 8099],
  {
    FERRY_ALARM_BAD_REQUEST: {
      num: 8001,
      status: 400,
      doc: 'an alarm rule or query is malformed: a field missing, unknown, of the wrong type or out of range (the error names it in `path`)',
    },
    FERRY_ALARM_THRESHOLD_TYPE: {
      num: 8002,
      status: 400,
      doc: 'a condition threshold of the wrong type: `>`/`>=`/`<`/`<=` need a number, `between`/`outside` numbers with low <= high (`path` names it)',
    },
    FERRY_ALARM_FORBIDDEN: { num: 8003, status: 403, doc: 'metric alarm rules are global: only a credential without an owner may create one' },
    FERRY_ALARM_UNKNOWN_METRIC: {
      num: 8010,
      status: 400,
      doc: "a metric alarm names a metric the cloud's registry does not have, or a histogram quantile it does not support",
    },
    FERRY_ALARM_UNKNOWN_DEVICE: { num: 8011, status: 400, doc: "a telemetry alarm or a rule's command names a device that is not the owner's" },
    FERRY_ALARM_UNKNOWN_STREAM: { num: 8012, status: 400, doc: 'a stream alarm names a composite stream (service object and stream) the owner may not read' },
    FERRY_ALARM_UNKNOWN_GATEWAY: { num: 8013, status: 400, doc: "`runtime: gateway:<id>` names a gateway that is not the owner's" },
    FERRY_ALARM_INSTALL: {
      num: 8014,
      status: 502,
      doc: 'the rule job could not be installed: the rule engine refused it, or the gateway did not answer or refused it (the cause is in the message)',
    },
    FERRY_ALARM_NOT_FOUND: { num: 8020, status: 404, doc: 'no alarm or alarm rule with this id among those the credential may see' },
    FERRY_ALARM_CONFLICT: { num: 8021, status: 409, doc: 'the alarm changed meanwhile (another worker); retry' },
    FERRY_ALARM_STARTING: { num: 8022, status: 503, doc: 'the alarm service is still starting (its rules are being installed again); retry shortly' },
    FERRY_ALARM_LIMIT: {
      num: 8030,
      status: 429,
      doc: 'an owner reached a documented limit: alarm rules, or alarm event streams open at once (docs/limits.md)',
    },
  },
  { package: '@ferry/cloud', errorName: 'AlarmError' },
);

export const ALARM_ERRORS = ALARM.codes;
export type AlarmErrorCode = keyof typeof ALARM_ERRORS;

/** An alarm error; `path` names the offending field of a request body when there is one. */
export class AlarmError extends ALARM.Error {}
