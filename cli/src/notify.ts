/**
 * @module `ferry notify`: the notification REST API of a running cloud (docs/notifications.md): channels,
 * subscriptions, deliveries, dead letters and their replay, and a test send. Secrets come from the
 * environment, never a flag (they would stay in shell history): FERRY_NOTIFY_SECRET for a webhook (the cloud
 * makes one and prints it once when unset), FERRY_SMTP_PASSWORD for an SMTP login.
 */
import { Command, Option } from 'commander';
import { send, seg, withApi, type ApiFlags } from './api-client.ts';
import type { Io } from './io.ts';
import { UsageError } from './usage.ts';

const BASE = '/api/v1/notify';

type ChannelFlags = ApiFlags & {
  kind: 'mqtt' | 'webhook' | 'email';
  name?: string;
  owner?: string;
  topic?: string;
  url?: string;
  timeoutMs?: string;
  host?: string;
  port?: string;
  secure?: boolean;
  user?: string;
  from?: string;
  to?: string[];
};

type SubscribeFlags = ApiFlags & {
  channel: string;
  kind: string[];
  source?: string;
  minPriority?: string;
  priority?: string;
  subject?: string;
  body?: string;
  dedupKey?: string;
  repeat?: string;
  owner?: string;
};

/** An integer flag, or a usage error naming it. */
function int(v: string | undefined, flag: string): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n)) throw new UsageError(`${flag} must be an integer, not ${v}`);
  return n;
}

const defined = (o: Record<string, unknown>): Record<string, unknown> => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));

function channelBody(o: ChannelFlags, env: Io['env']): Record<string, unknown> {
  const need = (v: string | undefined, flag: string): string => {
    if (v === undefined) throw new UsageError(`a ${o.kind} channel needs ${flag}`);
    return v;
  };
  const common = defined({ kind: o.kind, name: o.name, owner: o.owner });
  switch (o.kind) {
    case 'mqtt':
      return { ...common, config: defined({ topic: o.topic }) };
    case 'webhook':
      return {
        ...common,
        ...defined({ secret: env['FERRY_NOTIFY_SECRET'] || undefined }),
        config: defined({ url: need(o.url, '--url'), timeoutMs: int(o.timeoutMs, '--timeout-ms') }),
      };
    case 'email':
      return {
        ...common,
        ...defined({ secret: env['FERRY_SMTP_PASSWORD'] || undefined }),
        config: defined({
          host: need(o.host, '--host'),
          port: int(o.port, '--port'),
          secure: o.secure,
          user: o.user,
          from: need(o.from, '--from'),
          to: o.to ?? need(undefined, '--to'),
          timeoutMs: int(o.timeoutMs, '--timeout-ms'),
        }),
      };
  }
}

export function notifyCommands(io: Io, setCode: (c: number) => void): Command {
  const notify = new Command('notify').description('notification channels, subscriptions, deliveries and dead letters of a running cloud');
  const cmd = (spec: string, description: string): Command => withApi(notify.command(spec).description(description));
  const priority = (flag: string, what: string): Option => new Option(flag, what).choices(['high', 'normal', 'low']);

  cmd('channels', 'list the channels (never their secrets)').action((o: ApiFlags) => send(io, setCode, o, 'GET', `${BASE}/channels`));
  cmd('add-channel', 'add a channel; a webhook without FERRY_NOTIFY_SECRET gets a secret, printed once')
    .addOption(new Option('--kind <kind>', 'what it is').choices(['mqtt', 'webhook', 'email']).makeOptionMandatory())
    .option('--name <name>', 'a name for people')
    .option('--owner <id>', 'the owner it belongs to (a global credential only)')
    .option('--topic <levels>', 'mqtt: levels below <prefix>/notify/<owner>/ (default events)')
    .option('--url <url>', 'webhook: where to POST')
    .option('--timeout-ms <ms>', 'webhook, email: time for one attempt')
    .option('--host <host>', 'email: SMTP server')
    .option('--port <port>', 'email: SMTP port (default 587)')
    .option('--secure', 'email: TLS from the start (port 465)')
    .option('--user <name>', 'email: SMTP login (password from FERRY_SMTP_PASSWORD)')
    .option('--from <address>', 'email: sender')
    .option('--to <address...>', 'email: recipients (1..10)')
    .action((o: ChannelFlags) => send(io, setCode, o, 'POST', `${BASE}/channels`, { json: channelBody(o, io.env) }));
  cmd('remove-channel <id>', 'remove a channel that no subscription uses').action((id: string, o: ApiFlags) =>
    send(io, setCode, o, 'DELETE', `${BASE}/channels/${seg(id)}`),
  );
  cmd('subscriptions', 'list the subscriptions').action((o: ApiFlags) => send(io, setCode, o, 'GET', `${BASE}/subscriptions`));
  cmd('subscribe', 'send events of some kinds to a channel')
    .requiredOption('--channel <id>', 'the channel')
    .requiredOption('--kind <kind...>', "event kinds: exact (device.offline), a family (device.*) or '*'")
    .option('--source <glob>', 'only events whose source matches (* any run of characters)')
    .addOption(priority('--min-priority <p>', 'only events of at least this priority'))
    .addOption(priority('--priority <p>', "the deliveries' priority lane (default the event's)"))
    .option('--subject <template>', 'subject template ({{field}} substitutions, docs/notifications.md)')
    .option('--body <template>', 'body template')
    .option('--dedup-key <template>', 'events with the same key inside --repeat are sent once')
    .option('--repeat <seconds>', 'quiet repeat interval for --dedup-key')
    .option('--owner <id>', 'the owner it belongs to (a global credential only)')
    .action((o: SubscribeFlags) => {
      const template = defined({ subject: o.subject, body: o.body });
      const body = defined({
        channelId: o.channel,
        kinds: o.kind,
        source: o.source,
        minPriority: o.minPriority,
        priority: o.priority,
        template: Object.keys(template).length > 0 ? template : undefined,
        dedupKey: o.dedupKey,
        repeatS: int(o.repeat, '--repeat'),
        owner: o.owner,
      });
      return send(io, setCode, o, 'POST', `${BASE}/subscriptions`, { json: body });
    });
  cmd('unsubscribe <id>', 'remove a subscription').action((id: string, o: ApiFlags) => send(io, setCode, o, 'DELETE', `${BASE}/subscriptions/${seg(id)}`));
  cmd('deliveries', 'deliveries, newest first')
    .addOption(new Option('--state <state>', 'only these').choices(['queued', 'sending', 'acked', 'dead']))
    .option('--limit <n>', 'at most n (default 50, at most 500)')
    .action((o: ApiFlags & { state?: string; limit?: string }) => {
      const q = new URLSearchParams(defined({ state: o.state, limit: o.limit }) as Record<string, string>).toString();
      return send(io, setCode, o, 'GET', `${BASE}/deliveries${q === '' ? '' : `?${q}`}`);
    });
  cmd('dead-letters', 'deliveries that ran out of attempts')
    .option('--limit <n>', 'at most n (default 50, at most 500)')
    .action((o: ApiFlags & { limit?: string }) => send(io, setCode, o, 'GET', `${BASE}/dead-letters${o.limit === undefined ? '' : `?limit=${seg(o.limit)}`}`));
  cmd('replay <id>', 'queue a dead letter again').action((id: string, o: ApiFlags) => send(io, setCode, o, 'POST', `${BASE}/dead-letters/${seg(id)}/replay`));
  cmd('test <channelId>', 'send a test message to a channel now; prints whether it was acknowledged')
    .option('--kind <kind>', 'the test event kind (default notify.test)')
    .option('--source <source>', 'the test event source (default ferry)')
    .action((channelId: string, o: ApiFlags & { kind?: string; source?: string }) =>
      send(io, setCode, o, 'POST', `${BASE}/test`, { json: defined({ channelId, kind: o.kind, source: o.source }) }),
    );
  return notify;
}
