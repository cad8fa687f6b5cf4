/**
 * @module `ferry alarm`: the alarm REST API of a running cloud (docs/operations.md "Alarms"): alarms (list,
 * acknowledge, clear, assign) and alarm rules (list, create from flags or a JSON body, delete).
 */
import { Command, Option } from 'commander';
import { send, seg, withApi, type ApiFlags } from './api-client.ts';
import type { Io } from './io.ts';
import { UsageError } from './usage.ts';

const SEVERITIES = ['critical', 'major', 'minor', 'warning', 'indeterminate'];

type CreateFlags = ApiFlags & {
  json?: string;
  name?: string;
  type?: string;
  severity?: string;
  device?: string;
  event?: string;
  so?: string;
  stream?: string;
  metric?: string;
  value?: string;
  op?: string;
  threshold?: string;
  low?: string;
  high?: string;
  forMs?: string;
  m?: string;
  n?: string;
  missingAfterMs?: string;
  missing?: string;
  runtime?: string;
  repeatMs?: string;
  owner?: string;
};

const defined = (o: Record<string, unknown>): Record<string, unknown> => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));

function num(v: string | undefined, flag: string): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n)) throw new UsageError(`${flag} must be a number, not ${v}`);
  return n;
}

/** A threshold as typed: a number when it reads as one, true/false, else the text. */
function threshold(v: string | undefined): number | boolean | string | undefined {
  if (v === undefined) return undefined;
  if (v === 'true' || v === 'false') return v === 'true';
  return v.trim() !== '' && Number.isFinite(Number(v)) ? Number(v) : v;
}

/** The request body of `alarm create`: `--json` as it is, else built from the flags (the cloud checks it). */
export function ruleBody(o: CreateFlags): unknown {
  if (o.json !== undefined) {
    try {
      return JSON.parse(o.json) as unknown;
    } catch {
      throw new UsageError('--json must be a JSON object');
    }
  }
  const kinds = [o.device, o.so, o.metric].filter((x) => x !== undefined).length;
  if (kinds !== 1) throw new UsageError('name one source: --device <id|*> [--event], --so <id> --stream <name>, or --metric <name>');
  const source =
    o.device !== undefined
      ? defined({ kind: 'telemetry', device: o.device, event: o.event })
      : o.so !== undefined
        ? { kind: 'stream', so: o.so, stream: o.stream }
        : { kind: 'metric', metric: o.metric };
  const between = o.op === 'between' || o.op === 'outside';
  return defined({
    owner: o.owner,
    name: o.name,
    type: o.type,
    severity: o.severity,
    source,
    value: o.value,
    condition: between ? { op: o.op, low: num(o.low, '--low'), high: num(o.high, '--high') } : { op: o.op, threshold: threshold(o.threshold) },
    forMs: num(o.forMs, '--for-ms'),
    mOfN: o.m !== undefined || o.n !== undefined ? { m: num(o.m, '--m'), n: num(o.n, '--n') } : undefined,
    missing: o.missing !== undefined ? { afterMs: num(o.missingAfterMs ?? '60000', '--missing-after-ms'), policy: o.missing } : undefined,
    runtime: o.runtime,
    repeatMs: num(o.repeatMs, '--repeat-ms'),
  });
}

export function alarmCommands(io: Io, setCode: (c: number) => void): Command {
  const alarm = new Command('alarm').description('alarms and alarm rules of a running cloud (docs/operations.md "Alarms")');
  const cmd = (spec: string, description: string): Command => withApi(alarm.command(spec).description(description));

  cmd('list', 'alarms, newest first')
    .addOption(new Option('--status <status>', 'only these').choices(['active', 'acknowledged', 'cleared']))
    .addOption(new Option('--severity <severity>', 'only these').choices(SEVERITIES))
    .option('--type <type>', 'only this alarm type')
    .option('--source <source>', 'only this source')
    .option('--limit <n>', 'at most n (default 100, at most 1000)')
    .action((o: ApiFlags & { status?: string; severity?: string; type?: string; source?: string; limit?: string }) => {
      const q = new URLSearchParams(
        defined({ status: o.status, severity: o.severity, type: o.type, source: o.source, limit: o.limit }) as Record<string, string>,
      );
      return send(io, setCode, o, 'GET', `/api/v1/alarms${q.size === 0 ? '' : `?${q.toString()}`}`);
    });
  cmd('show <id>', 'one alarm with its history').action((id: string, o: ApiFlags) => send(io, setCode, o, 'GET', `/api/v1/alarms/${seg(id)}`));
  cmd('ack <id>', 'acknowledge an alarm').action((id: string, o: ApiFlags) => send(io, setCode, o, 'POST', `/api/v1/alarms/${seg(id)}/ack`));
  cmd('clear <id>', 'clear an alarm').action((id: string, o: ApiFlags) => send(io, setCode, o, 'POST', `/api/v1/alarms/${seg(id)}/clear`));
  cmd('assign <id> [assignee]', 'set the assignee (none given: remove it)').action((id: string, assignee: string | undefined, o: ApiFlags) =>
    send(io, setCode, o, 'PUT', `/api/v1/alarms/${seg(id)}/assignee`, { json: { assignee: assignee ?? null } }),
  );
  cmd('rules', 'the alarm rules').action((o: ApiFlags) => send(io, setCode, o, 'GET', '/api/v1/alarm-rules'));
  cmd('create', 'create an alarm rule (from flags, or the whole body with --json)')
    .option('--json <body>', 'the request body as JSON (docs/operations.md "Alarms"); other flags are ignored')
    .option('--name <name>', 'a name for people')
    .option('--type <type>', 'the alarm type (one alarm per type and source)')
    .addOption(new Option('--severity <severity>', 'how bad').choices(SEVERITIES))
    .option('--device <id>', "telemetry: the device ('*': each of the owner's)")
    .option('--event <event>', 'telemetry: only this topic level (default all)')
    .option('--so <id>', 'stream: the service object')
    .option('--stream <name>', 'stream: its stream')
    .option('--metric <name>', 'metric (a global credential): a gauge, counter, or histogram with :p99, :avg, :count, :sum')
    .option('--value <path>', "the compared value's JSON path (default value; required for telemetry)")
    .addOption(new Option('--op <op>', 'the comparison').choices(['>', '>=', '<', '<=', '==', '!=', 'between', 'outside']))
    .option('--threshold <v>', 'the threshold (a number, true/false, or text for == and !=)')
    .option('--low <n>', 'between/outside: the low bound')
    .option('--high <n>', 'between/outside: the high bound')
    .option('--for-ms <ms>', 'the condition must hold this long')
    .option('--m <m>', 'raise when m of the last n samples breach')
    .option('--n <n>', 'the n of --m')
    .addOption(new Option('--missing <policy>', 'what silence means').choices(['ignore', 'breaching', 'not-breaching', 'last']))
    .option('--missing-after-ms <ms>', 'silence this long is missing data (default 60000)')
    .option('--runtime <runtime>', 'cloud (default) or gateway:<id>')
    .option('--repeat-ms <ms>', 'notify again this often while active (default 0: once)')
    .option('--owner <id>', 'the owner it is for (a global credential only)')
    .action((o: CreateFlags) => send(io, setCode, o, 'POST', '/api/v1/alarm-rules', { json: ruleBody(o) }));
  cmd('delete-rule <id>', 'delete an alarm rule and uninstall its job').action((id: string, o: ApiFlags) =>
    send(io, setCode, o, 'DELETE', `/api/v1/alarm-rules/${seg(id)}`),
  );
  return alarm;
}
