/**
 * @module The control channel on the cloud's side (docs/cloud.md "The control channel"): requests to a
 * gateway's REST API over the MQTT connection the gateway opened (@ferry/mqtt-rest), their replies on
 * `<prefix>/ctl/<gateway>/res` routed by the intake's topic table. Both are MACed with the gateway's
 * control key, derived from the registry's key for that gateway; refused replies are counted in
 * `ferry_cloud_control_refused_total{code}`.
 */
import type { MqttClient } from 'mqtt';
import { Counter, type Registry } from 'prom-client';
import { ControlClient } from '@ferry/mqtt-rest';
import type { Intake } from './intake.ts';

export class GatewayControl {
  readonly #intake: Intake;
  readonly #client: ControlClient;

  /**
   * @param keyOf the gateway's key as the registry holds it (DeviceRegistry.secretOf); the control key is
   *   derived from it, so the key the gateway's readings verify with never verifies control traffic.
   */
  constructor(intake: Intake, keyOf: (gatewayId: string) => Uint8Array | undefined, prefix: string, registry?: Registry) {
    this.#intake = intake;
    // ControlClient reads its replies from its client's 'message' event, subscribes per gateway and publishes
    // requests; this view of the intake's main connection gives it the replies the table routes to control.
    const client = (): MqttClient => {
      const c = intake.client;
      if (c === undefined) throw new Error('the cloud service is not started');
      return c;
    };
    const view = {
      on: (_event: 'message', listener: (topic: string, payload: Buffer) => void): unknown => {
        intake.table.add({
          filter: `${prefix}/ctl/+/res`,
          ack: false,
          subscribe: false,
          handle: (topic, payload) => listener(topic, typeof payload === 'string' ? Buffer.from(payload) : payload),
        });
        return view;
      },
      subscribeAsync: (...a: Parameters<MqttClient['subscribeAsync']>) => client().subscribeAsync(...a),
      publishAsync: (...a: Parameters<MqttClient['publishAsync']>) => client().publishAsync(...a),
    };
    const refused =
      registry === undefined
        ? undefined
        : new Counter({
            name: 'ferry_cloud_control_refused_total',
            help: 'Gateway control replies refused (forged, for another gateway or direction, or naming no pending request), by code',
            labelNames: ['code'],
            registers: [registry],
          });
    this.#client = new ControlClient(view as unknown as MqttClient, keyOf, prefix, { onRefused: (code) => refused?.inc({ code }) });
  }

  /** A request to a gateway's REST API over its control channel. */
  async request(gatewayId: string, method: 'GET' | 'POST', path: string, body?: unknown): Promise<{ status: number; body: unknown }> {
    if (this.#intake.client === undefined) throw new Error('the cloud service is not started');
    return this.#client.request(gatewayId, { method, path, ...(body !== undefined && body !== null && { body }) });
  }
}
