/**
 * @module The control channel on the cloud's side (docs/cloud.md "The control channel"): requests to a
 * gateway's REST API over the MQTT connection the gateway opened (@ferry/mqtt-rest), their signed replies on
 * `<prefix>/ctl/<gateway>/res` routed by the intake's topic table.
 */
import type { MqttClient } from 'mqtt';
import { ControlClient } from '@ferry/mqtt-rest';
import type { KeyLookup } from '@ferry/message';
import type { Intake } from './intake.ts';

export class GatewayControl {
  readonly #intake: Intake;
  readonly #client: ControlClient;

  constructor(intake: Intake, keys: KeyLookup, prefix: string) {
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
    this.#client = new ControlClient(view as unknown as MqttClient, keys, prefix);
  }

  /** A request to a gateway's REST API over its control channel. */
  async request(gatewayId: string, method: 'GET' | 'POST', path: string, body?: unknown): Promise<{ status: number; body: unknown }> {
    if (this.#intake.client === undefined) throw new Error('the cloud service is not started');
    return this.#client.request(gatewayId, { method, path, ...(body !== undefined && body !== null && { body }) });
  }
}
