/**
 * @module The control channel, REST over MQTT: the cloud reaches a gateway behind NAT through the MQTT
 * connection the gateway itself opened. The cloud publishes requests {id, method, path, body} on
 * `<prefix>/ctl/<gateway>/req` (client.ts); the gateway answers {id, status, body} on
 * `<prefix>/ctl/<gateway>/res` with the same REST routes it serves locally (server.ts), so the rule API is
 * one API whatever the transport. Both directions are MACed with the gateway's control key, bound to the
 * direction, the gateway and the request id (envelope.ts; docs/gateway.md, "The control protocol").
 */

export const requestTopic = (prefix: string, gatewayId: string): string => `${prefix}/ctl/${gatewayId}/req`;
export const replyTopic = (prefix: string, gatewayId: string): string => `${prefix}/ctl/${gatewayId}/res`;

export interface ControlRequest {
  /** 128 random bits, base64url: chosen by the client, never predictable. */
  readonly id: string;
  readonly method: 'GET' | 'POST';
  readonly path: string;
  readonly body?: unknown;
}
export interface ControlReply {
  readonly id: string;
  readonly status: number;
  readonly body: unknown;
}

/** How long a request's timestamp stays acceptable, either way of the gateway's clock (docs/limits.md). */
export const DEFAULT_MAX_AGE_MS = 120_000;
