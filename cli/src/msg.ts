/** @module `ferry msg`: verify, decode and sign envelopes from the command line. */
import { Command } from 'commander';
import { checkTimeClaims, decode, encode, peek, TIME_LEEWAY_S, verify, type Claims, type FerryHeader } from '@ferry/message';
import { hmacKey } from '@ferry/message/node';
import { UsageError } from './usage.ts';
import { intOption, keyBytes } from './key.ts';
import type { Io } from './io.ts';

async function* tokens(arg: string | undefined, io: Io): AsyncIterable<string> {
  if (arg !== undefined) {
    yield arg;
    return;
  }
  for await (const line of io.lines()) {
    const t = line.trim();
    if (t !== '') yield t;
  }
}

export function msgCommands(io: Io, setCode: (c: number) => void): Command {
  const msg = new Command('msg').description('verify, decode and sign Ferry messages (compact JWS, HS256)');

  msg
    .command('verify [token]')
    .description('verify tokens (the argument, or one per line on stdin); print each header and body as a JSON line')
    .option('--key <hex>', 'the source key in hex (or FERRY_KEY)')
    .option('--leeway <s>', `seconds of clock skew allowed on exp and nbf (RFC 7519 §4.1.4-5), default ${TIME_LEEWAY_S}`)
    .option('--now <s>', 'check exp and nbf at this time, Unix seconds (default: now)')
    .action(async (arg: string | undefined, o: { key?: string; leeway?: string; now?: string }) => {
      const key = hmacKey(keyBytes(o.key, io));
      const leeway = o.leeway === undefined ? TIME_LEEWAY_S : intOption(o.leeway, '--leeway', 0, 86_400);
      const nowS = o.now === undefined ? Date.now() / 1000 : intOption(o.now, '--now', 0, 2 ** 40);
      let first: string | undefined;
      let n = 0;
      for await (const t of tokens(arg, io)) {
        n++;
        const v = verify(t, key);
        // As JWT libraries do: a token that states an expiry or a start is refused outside it.
        const r = v.ok ? checkTimeClaims(v.value.claims, nowS, leeway) : v;
        if (!r.ok) {
          first ??= r.error.code;
          io.err(`token ${n}: ${r.error.message}\n`);
        } else if (v.ok) io.out(`${JSON.stringify(v.value)}\n`);
      }
      if (first !== undefined) {
        io.err(`ferry msg verify: first invalid token: ${first}\n`);
        setCode(1);
      }
    });

  msg
    .command('decode [token]')
    .description('decode WITHOUT verifying (inspection only); --header-only reads just the ordering header')
    .option('--header-only', 'peek at the header; never decodes the body')
    .action(async (arg: string | undefined, o: { headerOnly?: boolean }) => {
      for await (const t of tokens(arg, io)) {
        const r = o.headerOnly === true ? peek(t) : decode(t);
        if (r.ok) io.out(`${JSON.stringify(r.value)}\n`);
        else {
          io.err(`${r.error.message}\n`);
          setCode(1);
        }
      }
    });

  msg
    .command('sign')
    .description('sign a message (for tests and tools; boards sign their own)')
    .requiredOption('--kid <id>', 'source id')
    .requiredOption('--ep <n>', 'epoch')
    .requiredOption('--sq <n>', 'sequence')
    .option('--key <hex>', 'the source key in hex (or FERRY_KEY)')
    .option('--iat <s>', 'issued-at, Unix seconds (default: now)')
    .option('--claims <json>', 'extra claims as a JSON object', '{}')
    .action((o: { kid: string; ep: string; sq: string; key?: string; iat?: string; claims: string }) => {
      let extra: unknown;
      try {
        extra = JSON.parse(o.claims);
      } catch {
        throw new UsageError('--claims must be a JSON object');
      }
      if (typeof extra !== 'object' || extra === null || Array.isArray(extra)) throw new UsageError('--claims must be a JSON object');
      const header: FerryHeader = { kid: o.kid, ep: intOption(o.ep, '--ep', 0, 0xffff_ffff), sq: intOption(o.sq, '--sq', 0, 0xffff_ffff) };
      const iat = o.iat === undefined ? Math.floor(Date.now() / 1000) : intOption(o.iat, '--iat', 0, Number.MAX_SAFE_INTEGER);
      const claims = { iss: o.kid, iat, ...(extra as object) } as Claims;
      const r = encode({ header, claims }, hmacKey(keyBytes(o.key, io)));
      if (r.ok) io.out(`${r.value}\n`);
      else {
        io.err(`${r.error.message}\n`);
        setCode(1);
      }
    });
  return msg;
}
