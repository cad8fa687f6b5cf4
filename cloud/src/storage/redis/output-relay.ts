/**
 * @module The composite-stream host's relay between scale-out workers (docs/composite-streams.md "Hosting"):
 * every value a worker stores, and every change of who may read an object, is published on one Redis
 * pub/sub channel, so an event stream open on any worker sees values computed on any other and ends when a
 * grant is revoked anywhere. Pub/sub delivers a publisher's messages in order; nothing is stored (a reader
 * that was not connected reads the history instead).
 */
import type { HostedOutput } from '../../compose/hosting.ts';
import type { OutputRelay, RelayMessage } from '../../compose/records.ts';
import { StoreError } from '../errors.ts';
import type { Redis } from 'ioredis';

export class RedisOutputRelay implements OutputRelay {
  readonly #redis: Redis;
  readonly #channel: string;
  #sub: Redis | undefined;

  constructor(redis: Redis, prefix = 'ferry:') {
    if (/[{}]/.test(prefix)) throw new StoreError('FERRY_STORE_CONFIG', 'prefix must not contain { or }');
    this.#redis = redis;
    this.#channel = `${prefix}{sos}:events`;
  }

  async start(receive: (m: RelayMessage) => void): Promise<void> {
    const sub = this.#redis.duplicate();
    this.#sub = sub;
    sub.on('message', (_channel: string, text: string) => receive(JSON.parse(text) as RelayMessage));
    await sub.subscribe(this.#channel);
  }

  async publishOutput(o: HostedOutput): Promise<void> {
    await this.#redis.publish(this.#channel, JSON.stringify({ output: o } satisfies RelayMessage));
  }

  async publishAccess(so: string): Promise<void> {
    await this.#redis.publish(this.#channel, JSON.stringify({ access: so } satisfies RelayMessage));
  }

  async close(): Promise<void> {
    await this.#sub?.quit().catch(() => this.#sub?.disconnect());
  }
}
