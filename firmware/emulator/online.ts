/**
 * @module Puts an emulated board online: its signed messages go to the cloud over MQTT
 * (`<prefix>/up/<kid>/msg`, QoS 1), and the namespace state the cloud publishes (`<prefix>/ns/<ns>/state/#`,
 * retained) is mirrored into the board's local state — as a board's host would do over WiFi. The firmware
 * is unchanged: it reads `temp.*` from state and so decides on every room reader of its namespace while
 * online; offline the mirrored entries go stale and it decides on its own sensor. It logs in as its id with
 * the password derived from its key.
 */
import mqtt, { type MqttClient } from 'mqtt';
import { noDelay } from '@ferry/mqtt-rest';
import type { EmulatedBoard } from './board.ts';

export interface Online {
  /** Sends what the board emitted since the last flush and waits for the broker's acknowledgements. */
  flush(): Promise<void>;
  readonly client: MqttClient;
  close(): Promise<void>;
}

/**
 * `mirror: false` leaves the namespace state alone: a board that asks the cloud by hash instead
 * (NamespaceMinimum) needs only the uplink.
 */
export async function goOnline(
  board: EmulatedBoard,
  o: { readonly url: string; readonly namespace: string; readonly prefix?: string; readonly mirror?: boolean },
): Promise<Online> {
  const prefix = o.prefix ?? 'ferry';
  // The cloud's broker binds the client id to the user name: both are the board's id.
  const client = noDelay(
    await mqtt.connectAsync(o.url, { clientId: board.deviceId, username: board.deviceId, password: board.mqttPassword(), reconnectPeriod: 1000 }),
  );
  const own = `temp.${board.deviceId}`;
  const stateTopic = `${prefix}/ns/${o.namespace}/state/`;
  client.on('message', (topic, payload) => {
    if (!topic.startsWith(stateTopic)) return;
    const key = topic.slice(stateTopic.length);
    if (key === own || key.length === 0 || key.length > 64) return; // its own reading is written by the firmware itself
    board.state.setText(key, payload.toString());
  });
  if (o.mirror !== false) await client.subscribeAsync(`${stateTopic}#`, { qos: 1 });
  let sent = board.messages.length;
  return {
    client,
    async flush() {
      const pending = board.messages.slice(sent);
      sent = board.messages.length;
      await Promise.all(pending.map((t) => client.publishAsync(`${prefix}/up/${board.deviceId}/msg`, t, { qos: 1 })));
    },
    async close() {
      await client.endAsync();
    },
  };
}
