/**
 * @module `ferry token`: API tokens on a running cloud (mint with a role, list, revoke by id), and an
 * owner's public function tokens (minted here, offline, from the owner's private token; revoked on the
 * cloud). Credentials come from FERRY_TOKEN only (api-client.ts); docs/cli.md lists every flag.
 */
import { Command } from 'commander';
import { mintPublicToken, MAX_TOKEN_LIFETIME_S } from '@ferry/cloud/functions';
import { ApiClient, credential, print, send, seg, withApi, type ApiFlags } from './api-client.ts';
import type { Io } from './io.ts';
import { intOption } from './key.ts';
import { UsageError } from './usage.ts';

const ROLES = ['viewer', 'operator', 'admin'] as const;

interface MintFlags extends ApiFlags {
  role?: string;
  owner?: string;
  name?: string;
  ttlDays?: string;
  namespace?: string[];
  subject?: string;
  fn?: string[];
  ttl: string;
  rate: string;
}

export function tokenCommands(io: Io, setCode: (c: number) => void): Command {
  const token = new Command('token').description('API tokens on a running cloud; public function tokens of an owner');
  withApi(
    token
      .command('mint')
      .description(
        'with --role: an API token from the cloud (printed once); without: a public function token minted here from the owner private token in FERRY_TOKEN',
      )
      .option('--role <role>', `API token role: ${ROLES.join(', ')}`)
      .option('--owner <id>', 'API token: the owner it acts for')
      .option('--name <name>', 'API token: a name to recognise it by in `token list`')
      .option('--ttl-days <n>', 'API token: lifetime in days (default: the cloud decides)')
      .option('--namespace <ns...>', 'public token: namespaces it may call in')
      .option('--subject <id>', 'public token: the caller (dev.id inside the function)')
      .option('--fn <hash...>', 'public token: the only hashes it may run (default: any white-listed)')
      .option('--ttl <seconds>', `public token: lifetime, at most ${MAX_TOKEN_LIFETIME_S} (90 days)`, '86400')
      .option('--rate <n/s>', 'public token: calls per second (the bucket holds one second of them)', '10'),
  ).action(async (o: MintFlags) => {
    if (o.role !== undefined) {
      if (!(ROLES as readonly string[]).includes(o.role)) throw new UsageError(`--role must be one of ${ROLES.join(', ')}`);
      if (o.namespace !== undefined || o.subject !== undefined || o.fn !== undefined)
        throw new UsageError('--namespace, --subject and --fn mint a public token: leave out --role');
      const ttlDays = o.ttlDays === undefined ? undefined : intOption(o.ttlDays, '--ttl-days', 1, 36_500);
      const body = {
        role: o.role,
        ...(o.owner !== undefined && { owner: o.owner }),
        ...(o.name !== undefined && { name: o.name }),
        ...(ttlDays !== undefined && { ttlDays }),
      };
      return send(io, setCode, o, 'POST', '/api/tokens', { json: body });
    }
    if (o.owner !== undefined || o.name !== undefined || o.ttlDays !== undefined) throw new UsageError('--owner, --name and --ttl-days need --role');
    if (o.namespace === undefined || o.subject === undefined)
      throw new UsageError('give --role for an API token, or --namespace and --subject for a public function token');
    const perSecond = intOption(o.rate.replace(/\/s$/, ''), '--rate', 1, 1_000_000);
    const spec = {
      subject: o.subject,
      namespaces: o.namespace,
      ...(o.fn !== undefined && { functions: o.fn }),
      rate: { perSecond, burst: perSecond },
      ttlS: intOption(o.ttl, '--ttl', 1, MAX_TOKEN_LIFETIME_S),
    };
    const nowMs = Date.now();
    const r = mintPublicToken(credential(io, "the owner's private token"), spec, nowMs);
    if (!r.ok) {
      io.err(`${JSON.stringify(r.error.toJSON())}\n`);
      setCode(1);
      return;
    }
    io.out(`${JSON.stringify({ token: r.value, ...spec, expiresMs: (Math.floor(nowMs / 1000) + spec.ttlS) * 1000 })}\n`);
  });
  withApi(token.command('list').description('the API tokens of the cloud (never their secrets)')).action((o: ApiFlags) =>
    send(io, setCode, o, 'GET', '/api/tokens'),
  );
  withApi(
    token
      .command('revoke [token]')
      .description('revoke a public token until its expiry (FERRY_TOKEN: your private token), or an API token by --id')
      .option('--id <apiTokenId>', 'the id of an API token (from `token mint --role` or `token list`)'),
  ).action(async (publicToken: string | undefined, o: ApiFlags & { id?: string }) => {
    if ((publicToken === undefined) === (o.id === undefined)) throw new UsageError('give either a public token or --id <apiTokenId>');
    if (o.id !== undefined) return send(io, setCode, o, 'DELETE', `/api/tokens/${seg(o.id)}`);
    const client = ApiClient.of(io, o, 'your private token');
    return print(io, setCode, await client.request('POST', '/api/tokens/revoke', { json: { token: publicToken } }));
  });
  return token;
}
