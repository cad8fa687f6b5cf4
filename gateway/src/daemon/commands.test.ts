/**
 * The gateway's command relay over a real broker (aedes) and a real SQLite file, with boards as test
 * doubles: tokens are forwarded byte for byte and in order, kept on disk while a board is away (across a
 * restart of the relay), bounded per board, and oversized ones refused; topics of boards it does not know
 * are not even subscribed.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { aedesBroker, type TestBroker } from '@ferry/test-kit/brokers';
import { until } from '@ferry/test-kit/until';
import type { SourceProblem } from '../sources/types.ts';
import { CommandRelay, type CommandTarget } from './commands.ts';

class FakeBoard implements CommandTarget {
  readonly got: string[] = [];
  connected = false;
  failNext = false;
  readonly #ready: ((id: string) => void)[] = [];
  boardId: string | undefined;
  constructor(boardId: string | undefined) {
    this.boardId = boardId;
  }
  onReady(fn: (id: string) => void): void {
    this.#ready.push(fn);
  }
  plugIn(): void {
    this.connected = true;
    for (const fn of this.#ready) fn(this.boardId!);
  }
  async signedCommand(token: Uint8Array): Promise<'delivered'> {
    await new Promise((r) => setImmediate(r));
    if (!this.connected || this.failNext) {
      this.failNext = false;
      throw new Error('closed');
    }
    this.got.push(Buffer.from(token).toString());
    return 'delivered';
  }
}

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function rig(): Promise<{ broker: TestBroker; gw: MqttClient; pub: MqttClient; path: string; problems: SourceProblem[] }> {
  const broker = await aedesBroker();
  cleanups.push(() => broker.stop());
  const gw = await mqtt.connectAsync(broker.url);
  const pub = await mqtt.connectAsync(broker.url);
  cleanups.push(
    () => gw.endAsync(true),
    () => pub.endAsync(true),
  );
  return { broker, gw, pub, path: join(mkdtempSync(join(tmpdir(), 'ferry-cmd-relay-')), 'commands.db'), problems: [] };
}

function relay(r: Awaited<ReturnType<typeof rig>>, boards: CommandTarget[], maxQueued?: number): CommandRelay {
  const c = new CommandRelay({
    path: r.path,
    client: r.gw,
    prefix: 'ferry',
    boards,
    problem: (p) => r.problems.push(p),
    ...(maxQueued !== undefined && { maxQueued }),
  });
  cleanups.push(() => c.close());
  return c;
}

describe('the gateway command relay', () => {
  it('forwards tokens unchanged and in order, and keeps them on disk while the board is away, across a restart', async () => {
    const r = await rig();
    const board = new FakeBoard('th-1');
    const first = relay(r, [board]);
    await first.start();
    await new Promise((res) => setTimeout(res, 50)); // the subscription reaches the broker
    for (const t of ['a.b.c1', 'a.b.c2']) await r.pub.publishAsync('ferry/dn/th-1/cmd', t, { qos: 1 });
    await until(() => first.queued()['th-1'] === 2, 'two queued');
    first.close();
    const board2 = new FakeBoard(undefined); // the restarted gateway learns the id from the board itself
    const second = relay(r, [board2]);
    await second.start(); // subscribes th-1 again: it knows the board from before
    await new Promise((res) => setTimeout(res, 50));
    await r.pub.publishAsync('ferry/dn/th-1/cmd', 'a.b.c3', { qos: 1 });
    await until(() => second.queued()['th-1'] === 3, 'three queued');
    board2.boardId = 'th-1';
    board2.plugIn();
    await until(() => board2.got.length === 3, 'all delivered');
    expect(board2.got).toEqual(['a.b.c1', 'a.b.c2', 'a.b.c3']);
    expect(second.queued()).toEqual({});
  });

  it('keeps a token the board could not take, refuses oversized ones, bounds the queue and ignores unknown boards', async () => {
    const r = await rig();
    const board = new FakeBoard('th-2');
    const c = relay(r, [board], 2);
    await c.start();
    await new Promise((res) => setTimeout(res, 50));
    await r.pub.publishAsync('ferry/dn/th-2/cmd', 'x'.repeat(2049), { qos: 1 });
    await r.pub.publishAsync('ferry/dn/th-other/cmd', 'a.b.other', { qos: 1 });
    for (const t of ['a.b.1', 'a.b.2', 'a.b.3']) await r.pub.publishAsync('ferry/dn/th-2/cmd', t, { qos: 1 });
    await until(() => c.stats().received === 4, 'four received');
    expect(r.problems.map((p) => p.code)).toEqual(['FERRY_GW_COMMAND_REFUSED', 'FERRY_GW_COMMAND_DROPPED']);
    expect(c.queued()).toEqual({ 'th-2': 2 });
    board.failNext = true;
    board.plugIn(); // the first attempt fails: nothing is lost
    await new Promise((res) => setTimeout(res, 50));
    expect(c.queued()).toEqual({ 'th-2': 2 });
    board.plugIn();
    await until(() => board.got.length === 2, 'delivered after the failure');
    expect(board.got).toEqual(['a.b.2', 'a.b.3']);
    expect(c.stats()).toMatchObject({ received: 4, forwarded: 2, refused: 1, droppedOldest: 1 });
  });
});
