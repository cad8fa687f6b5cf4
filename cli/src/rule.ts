/**
 * @module `ferry rule`: the rule REST API of a running cloud (docs/rules.md): install, start, stop,
 * uninstall, move, list, status. With --gateway <id> the same request goes to that gateway, relayed by the
 * cloud over its control channel (/api/gateways/<id>/api/...).
 */
import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { send, seg, withApi, type ApiFlags, type Method, type RequestBody } from './api-client.ts';
import type { Io } from './io.ts';
import { UsageError } from './usage.ts';

type RuleFlags = ApiFlags & { gateway?: string };

export function ruleCommands(io: Io, setCode: (c: number) => void): Command {
  const rule = new Command('rule').description('rules on a running cloud, or on a gateway behind it (--gateway)');
  const cmd = (spec: string, description: string): Command =>
    withApi(rule.command(spec).description(description).option('--gateway <id>', 'act on this gateway, through the cloud'));
  const go = (o: RuleFlags, method: Method, path: string, body?: RequestBody): Promise<void> =>
    send(io, setCode, o, method, `${o.gateway === undefined ? '' : `/api/gateways/${seg(o.gateway)}`}${path}`, body);

  cmd('install <file.json>', 'install a rule (an installation object, docs/rules.md); prints its jobInfo').action(async (file: string, o: RuleFlags) => {
    let json: unknown;
    try {
      json = JSON.parse(readFileSync(file, 'utf8'));
    } catch (e) {
      throw new UsageError(`cannot read ${file} as JSON: ${(e as Error).message}`);
    }
    await go(o, 'POST', '/api/install', { json });
  });
  for (const op of ['start', 'stop', 'uninstall'] as const) {
    cmd(`${op} <jobId>`, `${op} a job`).action((jobId: string, o: RuleFlags) => go(o, 'POST', `/api/${op}`, { json: { jobId } }));
  }
  cmd('move <jobId>', 'move a running job, with its window state, to another runtime')
    .requiredOption('--to <runtime>', "the target's runtime name: gateway:<id> for a gateway, cloud for a cloud")
    .option('--resource <r>', 'where the target is reached: gateway:<id>, or the base URL of a --move-peer (default: --to)')
    .action((jobId: string, o: RuleFlags & { to: string; resource?: string }) =>
      go(o, 'POST', '/api/move', { json: { jobId, target_runtime: o.to, targetResource: o.resource ?? o.to } }),
    );
  cmd('list', 'the jobs').action((o: RuleFlags) => go(o, 'GET', '/api/jobs'));
  cmd('status <jobId>', "a job's status: jobInfo, counters, watermark").action((jobId: string, o: RuleFlags) => go(o, 'GET', `/api/jobs/${seg(jobId)}`));
  return rule;
}
