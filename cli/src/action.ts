/**
 * @module `ferry action send` and `ferry action status` (docs/cli.md "Actions", docs/actions.md): a command
 * to one device, to a group (a namespace) or to all of the owner's devices, through the cloud's REST API;
 * and the state of a command (or the counts of a broadcast).
 */
import { Command, Option } from 'commander';
import { send, seg, withApi, type ApiFlags } from './api-client.ts';
import type { Io } from './io.ts';
import { UsageError } from './usage.ts';

interface SendFlags extends ApiFlags {
  readonly group?: string;
  readonly all?: boolean;
  readonly command: string;
  readonly ttl?: string;
  readonly priority?: 'high' | 'normal' | 'low';
}

export function actionCommands(io: Io, setCode: (c: number) => void): Command {
  const action = new Command('action').description('commands to devices on a running cloud (signed, queued, acknowledged)');
  withApi(
    action
      .command('send [device]')
      .description("send a command to a device, a group (--group <namespace>) or all the owner's devices (--all); prints JSON with its id")
      .option('--group <namespace>', 'every device of this namespace (a broadcast)')
      .option('--all', 'every device of the owner (a broadcast)')
      .requiredOption('--command <json>', 'the command, a JSON object, e.g. \'{"setpoint": 23.5}\'')
      .option('--ttl <s>', 'seconds the command stays valid (default 3600)')
      .addOption(new Option('--priority <lane>', 'lane: high before normal before low').choices(['high', 'normal', 'low'])),
  ).action(async (device: string | undefined, o: SendFlags) => {
    if ([device !== undefined, o.group !== undefined, o.all === true].filter(Boolean).length !== 1)
      throw new UsageError('give exactly one of <device>, --group <namespace>, --all');
    let command: unknown;
    try {
      command = JSON.parse(o.command);
    } catch {
      throw new UsageError('--command must be JSON (a JSON object)');
    }
    if (typeof command !== 'object' || command === null || Array.isArray(command)) throw new UsageError('--command must be a JSON object');
    const ttl = o.ttl === undefined ? undefined : Number(o.ttl);
    if (ttl !== undefined && (!Number.isInteger(ttl) || ttl < 1)) throw new UsageError('--ttl must be a whole number of seconds, at least 1');
    const common = { command, ...(ttl !== undefined && { ttl_s: ttl }), ...(o.priority !== undefined && { priority: o.priority }) };
    if (device !== undefined) return send(io, setCode, o, 'POST', '/api/v1/commands', { json: { device, ...common } });
    const target = o.group !== undefined ? { namespace: o.group } : { all: true };
    return send(io, setCode, o, 'POST', '/api/v1/broadcasts', { json: { target, ...common } });
  });
  withApi(
    action
      .command('status <id>')
      .description('the state of a command (queued, sent, delivered, acked, rejected, expired, failed), or of a broadcast (b-...): counts by state'),
  ).action((id: string, o: ApiFlags) => send(io, setCode, o, 'GET', id.startsWith('b-') ? `/api/v1/broadcasts/${seg(id)}` : `/api/v1/commands/${seg(id)}`));
  return action;
}
