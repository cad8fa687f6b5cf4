/**
 * @module Puts an emulated board online: its signed messages go to the cloud over MQTT
 * (`<prefix>/up/<kid>/msg`, QoS 1), and the namespace state the cloud sends it is mirrored into the board's
 * local state, as a board's host would do over WiFi. That state arrives as one retained, signed snapshot on
 * the board's own downlink topic `<prefix>/dn/<id>/state` (docs/cloud.md "Namespace projection"); the host
 * verifies it with the board's downlink key (downlink.ts) and ignores and counts anything unsigned, forged,
 * for another board, or older than what it already has. The firmware is unchanged: it reads `temp.*` from
 * state and so decides on every room reader of its namespace while online; offline the mirrored entries go
 * stale and it decides on its own sensor.
 * It logs in as its id with the password derived from its key.
 */
import mqtt, { type MqttClient } from 'mqtt';
import { noDelay } from '@ferry/mqtt-rest';
import type { EmulatedBoard } from './board.ts';

export interface Online {
  /** Sends what the board emitted since the last flush and waits for the broker's acknowledgements. */
  flush(): Promise<void>;
  readonly client: MqttClient;
  /** State messages refused: unsigned, forged, for another board, expired or replayed. */
  readonly forgedDownlink: number;
  close(): Promise<void>;
}

/** A state key as the ABI allows it (docs/abi.md: printable ASCII, at most 64). */
const STATE_KEY = /^[\x21-\x7e]{1,64}$/;

/**
 * `mirror: false` leaves the namespace state alone: a board that asks the cloud by hash instead
 * (NamespaceMinimum) needs only the uplink.
 */
export async function goOnline(
  board: EmulatedBoard,
  o: {
    readonly url: string;
    readonly namespace: string;
    readonly prefix?: string;
    readonly mirror?: boolean;
    /** For an mqtts:// url: the CA (PEM) the broker's certificate must chain to, the only one trusted. */
    readonly ca?: string;
  },
): Promise<Online> {
  const prefix = o.prefix ?? 'ferry';
  // The cloud's broker binds the client id to the user name: both are the board's id.
  const client = noDelay(
    await mqtt.connectAsync(o.url, {
      clientId: board.deviceId,
      username: board.deviceId,
      password: board.mqttPassword(),
      reconnectPeriod: 1000,
      ...(o.ca !== undefined && { ca: o.ca, rejectUnauthorized: true }),
    }),
  );
  const own = `temp.${board.deviceId}`;
  const stateTopic = `${prefix}/dn/${board.deviceId}/state`;
  let forged = 0;
  client.on('message', (topic, payload) => {
    if (topic !== stateTopic) return;
    const d = board.downlink.open(payload, 'ns.state');
    if (d === undefined) {
      forged++;
      return;
    }
    const body = d.body as { ns?: unknown; state?: unknown } | null;
    if (body?.ns !== o.namespace || typeof body.state !== 'object' || body.state === null) return;
    for (const [key, value] of Object.entries(body.state)) {
      // Its own reading is written by the firmware itself.
      if (key !== own && STATE_KEY.test(key) && typeof value === 'string') board.state.setText(key, value);
    }
  });
  if (o.mirror !== false) await client.subscribeAsync(stateTopic, { qos: 1 });
  let sent = board.messages.length;
  return {
    client,
    get forgedDownlink() {
      return forged;
    },
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
