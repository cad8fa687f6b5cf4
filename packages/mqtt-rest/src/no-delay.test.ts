import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { noDelay } from './no-delay.ts';

describe('noDelay', () => {
  it('sets TCP_NODELAY on the current socket and on the socket of every reconnect', () => {
    const calls: string[] = [];
    const socket = (name: string) => ({ setNoDelay: (on: boolean) => calls.push(`${name}:${on}`) });
    const client = Object.assign(new EventEmitter(), { stream: socket('first') as unknown });
    expect(noDelay(client)).toBe(client);
    client.stream = socket('second');
    client.emit('connect');
    expect(calls).toEqual(['first:true', 'second:true']);
  });

  it('leaves a client without a socket yet alone', () => {
    expect(() => noDelay(Object.assign(new EventEmitter(), { stream: undefined }))).not.toThrow();
  });
});
