/**
 * @module The gateway daemon's own error catalog (5400-5499): configuration, start-up and the outbox. Sources
 * have their own catalogs (BLE 5200-5299, serial sensors 5300-5399) and decoders theirs (5000-5199);
 * docs/errors.md lists every catalog. It lives here, beside the outbox, because the outbox is the lowest
 * layer that throws it: daemon/ imports uplink/, so uplink/ cannot import daemon/.
 */
import { defineErrors } from '@ferry/base';

const GATEWAY = defineErrors(
  'FERRY_GW_',
  [5400, 5499],
  {
    FERRY_GW_CONFIG: { num: 5401, status: 400, doc: 'the configuration file or the key file is missing, not YAML, or invalid; every offending path is named' },
    FERRY_GW_SOURCE_START: { num: 5402, status: 503, doc: 'a source failed to start (the message names it and why); the daemon runs on without it' },
    FERRY_GW_OUTBOX_FULL: {
      num: 5403,
      status: 507,
      doc: 'the outbox is at its row or byte limit under the refuse-new policy, or a reading can never fit; the reading is refused',
    },
    FERRY_GW_OUTBOX_WRITE: {
      num: 5404,
      status: 507,
      doc: 'the outbox could not store a write (the disk is full, an I/O error); the write is refused and counted, the daemon keeps running',
    },
    FERRY_GW_RULE_DEPTH: {
      num: 5405,
      status: 508,
      doc: 'a rule output was not fed back to local rules: it is already 8 rule stages deep (a loop between rules through another runtime?); it is still published',
    },
    FERRY_GW_UNAUTHORIZED: {
      num: 5406,
      status: 401,
      doc: 'the gateway API has a token (api.token_file) and the request did not carry it as Authorization: Bearer (every route but /health)',
    },
    FERRY_GW_COMMAND_REFUSED: {
      num: 5407,
      status: 413,
      doc: 'a message on a board command topic is empty or longer than a token can be (2048 bytes); it is not queued',
    },
    FERRY_GW_RATE_LIMITED: {
      num: 5409,
      status: 429,
      doc: 'more than 20 refused requests per second came from this address (a wrong or missing API token): it is paced, so guessing the token is slow',
    },
    FERRY_GW_COMMAND_DROPPED: {
      num: 5408,
      status: 507,
      doc: "a board's command queue was full (commands.max_queued) while it was unplugged: its oldest command was dropped (the cloud redelivers what is not acknowledged)",
    },
  },
  { package: '@ferry/gateway', errorName: 'GatewayError' },
);

export const GATEWAY_ERRORS = GATEWAY.codes;
export type GatewayErrorCode = keyof typeof GATEWAY_ERRORS;

export class GatewayError extends GATEWAY.Error {}
