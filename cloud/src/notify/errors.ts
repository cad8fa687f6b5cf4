/**
 * @module The notification catalog (7700-7799): every way the notifier refuses a request or fails a delivery
 * has one code (FERRY_NOTIFY_*), one number and one HTTP status. Sub-ranges: 770x requests (channels,
 * subscriptions, templates), 771x delivery by channel kind, 772x limits. docs/notifications.md says when each
 * occurs; docs/errors.md lists them.
 */
import { defineErrors } from '@ferry/base';

const NOTIFY = defineErrors(
  'FERRY_NOTIFY_',
  [7700, 7799],
  {
    FERRY_NOTIFY_BAD_REQUEST: {
      num: 7701,
      status: 400,
      doc: 'a channel, subscription, event or query is malformed: a field missing, of the wrong type or out of range (the error names it in `path`)',
    },
    FERRY_NOTIFY_NOT_FOUND: { num: 7702, status: 404, doc: 'no such channel, subscription, delivery or dead letter (among those the caller may see)' },
    FERRY_NOTIFY_TEMPLATE: {
      num: 7703,
      status: 400,
      doc: 'a template does not parse: an unclosed `{{`, an empty or invalid field path, or longer than its limit',
    },
    FERRY_NOTIFY_ADDRESS: {
      num: 7704,
      status: 400,
      doc: 'a webhook URL is not http(s), or names or resolves to a private, loopback or link-local address the cloud was not told to allow',
    },
    FERRY_NOTIFY_IN_USE: { num: 7705, status: 409, doc: 'the channel still has subscriptions; delete them first' },
    FERRY_NOTIFY_NOT_DEAD: { num: 7706, status: 409, doc: 'only a dead letter can be replayed; this delivery is queued, in flight or acknowledged' },
    FERRY_NOTIFY_WEBHOOK: {
      num: 7711,
      status: 502,
      doc: 'a webhook answered something other than 2xx, or the connection failed; the delivery is retried with back-off',
    },
    FERRY_NOTIFY_TIMEOUT: { num: 7712, status: 504, doc: 'a webhook or SMTP server did not answer within the channel timeout; retried with back-off' },
    FERRY_NOTIFY_SMTP: { num: 7713, status: 502, doc: 'the SMTP server refused the message or the login, or could not be reached; retried with back-off' },
    FERRY_NOTIFY_MQTT: { num: 7714, status: 503, doc: "the cloud's broker did not acknowledge the publish (no PUBACK: not connected, or refused); retried" },
    FERRY_NOTIFY_CHANNEL_GONE: { num: 7715, status: 410, doc: 'the channel of a queued delivery was deleted; the delivery goes to the dead letters' },
    FERRY_NOTIFY_SECRET: {
      num: 7716,
      status: 500,
      doc: "a channel's sealed secret cannot be opened (sealed under another master key); set the secret again with PUT",
    },
    FERRY_NOTIFY_LIMIT: {
      num: 7721,
      status: 429,
      doc: 'an owner reached a documented limit: channels, subscriptions, queued deliveries or test sends per minute (docs/limits.md)',
    },
    FERRY_NOTIFY_TOO_LARGE: { num: 7722, status: 413, doc: 'an event, template or rendered message is larger than its documented limit' },
  },
  { package: '@ferry/cloud', errorName: 'NotifyError' },
);

export const NOTIFY_ERRORS = NOTIFY.codes;
export type NotifyErrorCode = keyof typeof NOTIFY_ERRORS;

/** A notify error; `path` names the offending field of a request body when there is one. */
export class NotifyError extends NOTIFY.Error {}
