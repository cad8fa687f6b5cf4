/**
 * @module The catalog of service objects' flows (7900-7999): HTTP callback subscriptions and device-telemetry
 * mappings (docs/composite-streams.md, "HTTP callbacks" and "From devices"). Refusals of the engine and host
 * themselves are FERRY_COMPOSE_*. Sub-ranges: 790x subscriptions, 791x mappings.
 */
import { defineErrors } from '@ferry/base';

const SOFLOW = defineErrors(
  'FERRY_SOFLOW_',
  [7900, 7999],
  {
    FERRY_SOFLOW_BAD_URL: {
      num: 7901,
      status: 400,
      doc: 'a callback URL is not an absolute http or https URL of at most 2048 characters without credentials',
    },
    FERRY_SOFLOW_PRIVATE_ADDRESS: {
      num: 7902,
      status: 400,
      doc: 'a callback URL names or resolves to a loopback, private, link-local or otherwise non-public address, which this cloud is not configured to allow',
    },
    FERRY_SOFLOW_BAD_SECRET: { num: 7903, status: 400, doc: 'a callback secret is missing or not 16..256 characters' },
    FERRY_SOFLOW_LIMIT: { num: 7904, status: 409, doc: 'the owner already has the most subscriptions (or mappings) a cloud keeps per owner; delete one first' },
    FERRY_SOFLOW_NOT_FOUND: { num: 7905, status: 404, doc: "no such subscription or mapping of the caller's (another owner's answers the same)" },
    FERRY_SOFLOW_BAD_MAPPING: {
      num: 7911,
      status: 400,
      doc: 'a telemetry mapping is malformed (device, event or channels missing, a field name not 1..64 characters), or names a device of another owner',
    },
  },
  { package: '@ferry/cloud', errorName: 'SoFlowError' },
);

export const SOFLOW_ERRORS = SOFLOW.codes;
export type SoFlowErrorCode = keyof typeof SOFLOW_ERRORS;
export class SoFlowError extends SOFLOW.Error {}
