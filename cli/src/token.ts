/**
 * @module `ferry token revoke`: an owner revokes one of their public tokens on a running cloud (POST
 * /api/tokens/revoke). The API address comes from --api or FERRY_API, the owner's private token from
 * FERRY_TOKEN, so neither lands in shell history. Prints JSON; exit 1 when refused, 2 on a usage error.
 */
import { Command } from 'commander';
import { cloudFetch, readCa } from './https.ts';
import type { Io } from './io.ts';
import { UsageError } from './usage.ts';

export function tokenCommands(io: Io, setCode: (c: number) => void): Command {
  const token = new Command('token').description("an owner's public tokens on a running cloud");
  token
    .command('revoke <token>')
    .description('revoke one of your public tokens until its expiry (FERRY_TOKEN: your private token)')
    .option('--api <url>', 'cloud HTTP API (or FERRY_API)')
    .option('--ca <file>', 'CA (PEM) to verify an https:// API with (or FERRY_CA)')
    .action(async (publicToken: string, o: { api?: string; ca?: string }) => {
      const api = (o.api ?? io.env['FERRY_API'] ?? 'http://127.0.0.1:8080').replace(/\/+$/, '');
      const privateToken = io.env['FERRY_TOKEN'];
      if (privateToken === undefined || privateToken === '') throw new UsageError('FERRY_TOKEN must hold your private token');
      let res: Response;
      try {
        res = await cloudFetch(
          `${api}/api/tokens/revoke`,
          {
            method: 'POST',
            headers: { 'content-type': 'application/json', authorization: `Bearer ${privateToken}` },
            body: JSON.stringify({ token: publicToken }),
          },
          readCa(o.ca, io.env),
        );
      } catch (e) {
        throw new UsageError(`cannot reach the cloud API at ${api}: ${(e as Error).message}`);
      }
      const body = JSON.stringify(await res.json());
      if (res.ok) io.out(`${body}\n`);
      else {
        io.err(`${body}\n`);
        setCode(1);
      }
    });
  return token;
}
