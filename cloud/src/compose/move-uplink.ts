/**
 * @module Which released messages carry a gateway's composite-stream values (docs/composite-streams.md, "On
 * the gateway"): a message the gateway signed itself (`ev: "so"`) on its own `<prefix>/up/<gateway>/so`. The
 * ingest has verified and released it in sequence; its `d` goes to SoMover.fromGateway. A board's message
 * forwarded by the gateway is never one: its kid is the board's, and the topic names the gateway.
 */
import type { IngestEvent } from '../ingest/index.ts';

export function soUplinkOf(e: IngestEvent): { readonly gateway: string; readonly d: unknown } | undefined {
  if (e.type !== 'message' || e.message.claims['ev'] !== 'so' || e.topic === undefined || !e.topic.endsWith(`/up/${e.kid}/so`)) return undefined;
  return { gateway: e.kid, d: e.message.claims['d'] };
}
