/**
 * The notifier across a kill -9 (docs/notifications.md "Deliveries"): a cloud process accepts events and
 * delivers them to a loopback webhook; it is killed with SIGKILL in the middle and started again on the same
 * data. Every event it acknowledged accepting is delivered, and no delivery acknowledged before the kill is
 * sent again; only those in flight at the kill may come twice, with the same delivery id.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { DELIVERY_HEADER } from '../cloud/src/notify/channel-webhook.ts';
import { httpSink, until } from '../cloud/src/notify/test-sinks.case.ts';

const CHILD = join(import.meta.dirname, 'notify-kill.child.ts');
const EVENTS = 400;

const children: ChildProcess[] = [];
afterAll(() => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
});

function start(dataDir: string, hookUrl: string, count: number, accepted: Set<number>): { proc: ChildProcess; ready: Promise<void> } {
  // One process (node with tsx's loader), not the tsx launcher, whose child a SIGKILL of it would leave running.
  const proc = spawn(process.execPath, ['--import', 'tsx', CHILD, dataDir, hookUrl, String(count)], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(proc);
  let err = '';
  proc.stderr!.on('data', (b: Buffer) => {
    err += b.toString();
  });
  const ready = new Promise<void>((resolve, reject) => {
    let out = '';
    proc.stdout!.on('data', (b: Buffer) => {
      out += b.toString();
      const lines = out.split('\n');
      out = lines.pop()!;
      for (const l of lines) {
        if (l.startsWith('accepted ')) accepted.add(Number(l.slice(9)));
        if (l === 'ready') resolve();
      }
    });
    proc.once('exit', (code) => reject(new Error(`the cloud exited with ${String(code)}: ${err}`)));
  });
  ready.catch(() => undefined);
  return { proc, ready };
}

describe('notifications across a kill -9 of the cloud', () => {
  it('delivers every accepted event and re-sends nothing acknowledged', async () => {
    const sink = await httpSink();
    const dataDir = mkdtempSync(join(tmpdir(), 'ferry-notify-kill-'));
    const accepted = new Set<number>();
    const first = start(dataDir, sink.url, EVENTS, accepted);
    await until(() => sink.received.length >= EVENTS / 4, 'a quarter delivered', 60_000);
    const exited = new Promise((r) => first.proc.once('exit', r));
    first.proc.kill('SIGKILL');
    await exited;
    const before = sink.received.length;
    const db = new Database(join(dataDir, 'cloud.db'), { readonly: true });
    const ackedBefore = new Set(
      db
        .prepare<[], { id: string }>("SELECT id FROM notify_deliveries WHERE state = 'acked'")
        .all()
        .map((r) => r.id),
    );
    db.close();
    expect(ackedBefore.size).toBeGreaterThan(0);

    const second = start(dataDir, sink.url, 0, new Set());
    await second.ready;
    const sourceOf = (body: string): number => (JSON.parse(body) as { event: { data: { i: number } } }).event.data.i;
    await until(() => [...accepted].every((i) => sink.received.some((r) => sourceOf(r.body) === i)), 'every accepted event delivered', 60_000);
    second.proc.kill('SIGTERM');
    await sink.close();

    const after = sink.received.slice(before).map((r) => r.headers[DELIVERY_HEADER] as string);
    expect(after.filter((id) => ackedBefore.has(id))).toEqual([]);
    const times = new Map<string, number>();
    for (const r of sink.received) times.set(r.headers[DELIVERY_HEADER] as string, (times.get(r.headers[DELIVERY_HEADER] as string) ?? 0) + 1);
    const twice = [...times].filter(([, n]) => n > 1);
    expect(twice.every(([id, n]) => n === 2 && !ackedBefore.has(id))).toBe(true);
    console.log(`notify kill -9: ${accepted.size} accepted, ${before} calls before the kill, ${ackedBefore.size} acked then, ${twice.length} sent twice`);
  }, 120_000);
});
