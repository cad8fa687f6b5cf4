/**
 * @module Composite-stream outputs that command devices (docs/composite-streams.md "Commands from streams";
 * docs/actions.md "Triggers"). A service object may carry the Ferry field `commands`: a list of
 * `{"stream", "device", "command", "ttl_s"?, "priority"?}`; every value its stream stores sends `command`
 * to `device` through the cloud's command queue, as the object's owner. In `command`, a string that is
 * exactly `"$<channel>"` is replaced by that channel's value in the stored value, so an output can carry a
 * number down (`{"setpoint": "$sp"}`). The device must be the object's owner's: another owner's device is
 * never commanded (counted and logged). One command per stored value: a redelivered update stores nothing,
 * so it commands nothing again.
 */
import { composeError, type ComposeError, type StreamValue } from '@ferry/compose';
import type { Result } from '@ferry/base';
import type { HostedOutput, SoHosting } from './hosting.ts';

export const MAX_SO_COMMANDS = 16;
const PRIORITIES = ['high', 'normal', 'low'] as const;
const DEVICE = /^[A-Za-z0-9._-]{1,32}$/;

export interface SoCommand {
  readonly stream: string;
  readonly device: string;
  readonly command: Readonly<Record<string, unknown>>;
  readonly ttlS?: number | undefined;
  readonly priority?: (typeof PRIORITIES)[number] | undefined;
}

const isRecord = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);

/** The `commands` field of a document, checked against its streams; a typed error names the entry and the field. */
export function parseSoCommands(document: unknown): Result<readonly SoCommand[], ComposeError> {
  if (!isRecord(document) || document['commands'] === undefined) return { ok: true, value: [] };
  const raw = document['commands'];
  const bad = (i: number | undefined, detail: string): { ok: false; error: ComposeError } => ({
    ok: false,
    error: composeError('FERRY_COMPOSE_DOCUMENT', `commands${i === undefined ? '' : `[${i}]`}: ${detail}`),
  });
  if (!Array.isArray(raw) || raw.length > MAX_SO_COMMANDS) return bad(undefined, `an array of at most ${MAX_SO_COMMANDS}`);
  const streams = isRecord(document['streams']) ? document['streams'] : {};
  const out: SoCommand[] = [];
  for (const [i, c] of raw.entries()) {
    if (!isRecord(c)) return bad(i, 'an object {stream, device, command, ttl_s?, priority?}');
    const { stream, device, command, ttl_s: ttl, priority } = c;
    if (typeof stream !== 'string' || !Object.hasOwn(streams, stream)) return bad(i, 'stream names a stream of this object');
    if (typeof device !== 'string' || !DEVICE.test(device)) return bad(i, 'device is a device id (1..32 of [A-Za-z0-9._-])');
    if (!isRecord(command)) return bad(i, 'command is a JSON object');
    if (ttl !== undefined && (typeof ttl !== 'number' || !Number.isInteger(ttl) || ttl < 1)) return bad(i, 'ttl_s is a positive integer');
    if (priority !== undefined && !(PRIORITIES as readonly unknown[]).includes(priority)) return bad(i, `priority is one of ${PRIORITIES.join(', ')}`);
    out.push({ stream, device, command, ttlS: ttl as number | undefined, priority: priority as SoCommand['priority'] });
  }
  return { ok: true, value: out };
}

/** `command` with every `"$<channel>"` string replaced by that channel's value in `value`. */
export function fill(command: Readonly<Record<string, unknown>>, value: StreamValue): Record<string, unknown> {
  const sub = (x: unknown): unknown => {
    if (typeof x === 'string' && x.startsWith('$') && Object.hasOwn(value.channels, x.slice(1))) return value.channels[x.slice(1)];
    if (Array.isArray(x)) return x.map(sub);
    if (isRecord(x)) return Object.fromEntries(Object.entries(x).map(([k, v]) => [k, sub(v)]));
    return x;
  };
  return sub(command) as Record<string, unknown>;
}

export interface CommandTriggerParts {
  readonly hosting: Pick<SoHosting, 'onOutput'>;
  /** The object's document and owner, as installed. */
  readonly objectOf: (so: string) => { readonly owner: string; readonly document: unknown } | undefined;
  /** The owner of a registered device (undefined: none, or no such device). */
  readonly deviceOwner: (device: string) => string | undefined;
  /** The command queue's entry point (commands/service.ts CommandService.enqueue). */
  readonly enqueue: (r: { device: string; command: unknown; ttlS?: number | undefined; priority?: SoCommand['priority']; source: string }) => Promise<unknown>;
  readonly log: (m: string) => void;
}

export interface TriggerCounters {
  sent: number;
  refused: number;
  failed: number;
}

/** Listens to stored values; answers the counters and the unsubscribe. */
export function soCommandTrigger(p: CommandTriggerParts): { readonly counters: TriggerCounters; stop(): void } {
  const counters: TriggerCounters = { sent: 0, refused: 0, failed: 0 };
  const stop = p.hosting.onOutput((o: HostedOutput) => {
    const obj = p.objectOf(o.so);
    if (obj === undefined) return;
    const cmds = parseSoCommands(obj.document);
    if (!cmds.ok) return;
    for (const c of cmds.value) {
      if (c.stream !== o.stream) continue;
      if (p.deviceOwner(c.device) !== obj.owner) {
        counters.refused++;
        p.log(`compose: ${o.so}/${o.stream} may not command ${c.device}: not a device of ${obj.owner}`);
        continue;
      }
      p.enqueue({ device: c.device, command: fill(c.command, o.value), ttlS: c.ttlS, priority: c.priority, source: `so:${o.so}/${o.stream}` }).then(
        () => counters.sent++,
        (e: unknown) => {
          counters.failed++;
          p.log(`compose: ${o.so}/${o.stream} -> ${c.device}: ${e instanceof Error ? e.message : String(e)}`);
        },
      );
    }
  });
  return { counters, stop };
}
