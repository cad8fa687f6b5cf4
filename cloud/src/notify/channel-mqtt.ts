/**
 * @module The MQTT channel (docs/notifications.md "MQTT"): one QoS 1 publish per delivery on the cloud's
 * broker, under the owner's space `<prefix>/notify/<owner>/<topic>` (`<prefix>/notify-global/<topic>` for
 * a global channel), the payload the same JSON a webhook receives. Acknowledgement = the broker's PUBACK
 * within the channel's time.
 */
import type { MqttClient } from 'mqtt';
import { NotifyError } from './errors.ts';
import type { Message, MqttChannelConfig } from './types.ts';
import { webhookBody } from './channel-webhook.ts';

/** Time to wait for a PUBACK, ms. */
export const MQTT_ACK_MS = 5000;

export const notifyTopic = (prefix: string, owner: string | undefined, c: MqttChannelConfig): string =>
  owner === undefined ? `${prefix}/notify-global/${c.topic}` : `${prefix}/notify/${owner}/${c.topic}`;

export function publishAcked(client: MqttClient | undefined, topic: string, deliveryId: string, m: Message): Promise<void> {
  if (client?.connected !== true) return Promise.reject(new NotifyError('FERRY_NOTIFY_MQTT', 'the cloud is not connected to its broker'));
  return new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new NotifyError('FERRY_NOTIFY_MQTT', `no PUBACK within ${MQTT_ACK_MS} ms`)), MQTT_ACK_MS);
    client.publish(topic, webhookBody(deliveryId, m), { qos: 1 }, (err) => {
      clearTimeout(timer);
      if (err === undefined || err === null) resolve();
      else reject(new NotifyError('FERRY_NOTIFY_MQTT', err.message));
    });
  });
}
