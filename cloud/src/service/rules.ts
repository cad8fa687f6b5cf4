/**
 * @module The cloud's rules host (the same rule engine as the gateway's, @ferry/rules-host) and what it is fed:
 * every released message, under the MQTT topic it arrived on, as the record a gateway's rules would see.
 */
import type { Json } from '@ferry/message';
import { RulesHost, httpTransport } from '@ferry/rules-host';
import type { IngestEvent } from '../ingest/index.ts';

export interface RulesParts {
  publish(topic: string, payload: string): void;
  /** A request to a gateway's REST API over its control channel (control.ts). */
  gatewayRequest(gatewayId: string, method: 'POST', path: string, body: unknown): Promise<{ status: number; body: unknown }>;
  log(msg: string): void;
}

export function createRulesHost(p: RulesParts): RulesHost {
  return new RulesHost({
    runtime: 'cloud',
    publish: (topic, payload) => p.publish(topic, JSON.stringify(payload)),
    onError: (e) => p.log(`rules: ${e.message}`),
    // A job moved to `gateway:<id>` travels over that gateway's control channel; others over HTTP.
    transport: async (relocation) => {
      const gw = /^gateway:(.+)$/.exec(relocation.targetResource)?.[1];
      if (gw === undefined) return httpTransport(relocation);
      const reply = await p.gatewayRequest(gw, 'POST', '/api/move', relocation);
      if (reply.status >= 300) throw new Error(`gateway ${gw} refused the job: ${reply.status} ${JSON.stringify(reply.body)}`);
      return reply.body;
    },
  });
}

/** Feeds a released message to the rules, under its topic (a message that came without one reaches no rule). */
export function feedRules(rules: RulesHost, e: IngestEvent): void {
  if (e.type !== 'message') return;
  const d = e.message.claims['d'];
  if (e.topic === undefined || typeof d !== 'object' || d === null || Array.isArray(d)) return;
  // A gateway rule's output is {topic, out}: the next stage sees `out`, as it would on the gateway.
  // A reading: the record a gateway's rules see for it, its data without transport metadata.
  const { meta: _meta, ...reading } = d as Record<string, Json>;
  const record = e.message.claims['ev'] === 'rule' ? (d as Record<string, Json>)['out'] : reading;
  rules.input(e.topic, record, e.message.claims.iat * 1000, `${e.kid}/${e.ep}/${e.sq}`);
}
