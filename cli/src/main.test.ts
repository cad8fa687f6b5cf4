/** The CLI run in-process (commander with injected streams), plus one real spawn of the installed bin. */
import { execFileSync, spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { peek } from '@ferry/message';
import { main } from './main.ts';
import { memoryIo } from './io.ts';

const KEY = 'ab'.repeat(32);
const run = async (args: string[], input: string[] = [], env: Record<string, string> = {}) => {
  const io = memoryIo(input, env);
  const code = await main(['node', 'ferry', ...args], io);
  return { code, out: io.stdout.join(''), err: io.stderr.join('') };
};

describe('ferry board sim | ferry msg verify', () => {
  // Regression: verify ignored exp and nbf; PyJWT and jose refuse expired and not-yet-valid tokens.
  it('verify refuses a token past its exp or before its nbf (with a leeway), as JWT libraries do', async () => {
    const sign = async (claims: object) =>
      (await run(['msg', 'sign', '--kid', 'k1', '--ep', '1', '--sq', '0', '--claims', JSON.stringify(claims), '--key', KEY])).out.trim();
    const expired = await sign({ exp: 1_000 });
    const future = await sign({ nbf: 2_000 });
    const window = await sign({ nbf: 1_000, exp: 2_000 });
    const at = (now: number, token: string, leeway = '60') => run(['msg', 'verify', '--key', KEY, '--now', String(now), '--leeway', leeway, token]);
    expect([(await at(1_100, expired)).code, (await at(1_100, expired)).err]).toEqual([1, expect.stringMatching(/FERRY_MSG_EXPIRED/)]);
    expect((await at(1_030, expired)).code).toBe(0); // inside the leeway
    expect([(await at(1_500, future)).code, (await at(1_500, future)).err]).toEqual([1, expect.stringMatching(/FERRY_MSG_NOT_YET_VALID/)]);
    expect((await at(1_500, window, '0')).code).toBe(0);
    expect((await at(2_000, window, '0')).code).toBe(1); // exp is exclusive (RFC 7519 §4.1.4)
  });

  it('sim prints one signed message per line, deterministically for a seed', async () => {
    const a = await run(['board', 'sim', '--ticks', '20', '--seed', '5', '--key', KEY]);
    const b = await run(['board', 'sim', '--ticks', '20', '--seed', '5', '--key', KEY]);
    expect(a.code).toBe(0);
    const lines = a.out.trim().split('\n');
    expect(lines.length).toBeGreaterThanOrEqual(21); // boot + one telemetry per tick (+ any decisions)
    expect(b.out).toBe(a.out);
    expect(
      lines.map((l) => {
        const p = peek(l);
        return p.ok ? p.value.sq : -1;
      }),
    ).toEqual(lines.map((_, i) => i));
  });

  it('verify accepts what sim printed and prints header and body as JSON lines', async () => {
    const sim = await run(['board', 'sim', '--ticks', '3', '--key', KEY]);
    const v = await run(['msg', 'verify', '--key', KEY], sim.out.trim().split('\n'));
    expect(v.code).toBe(0);
    const rows = v.out
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { header: { sq: number }; claims: { ev: string } });
    expect(rows.map((r) => r.header.sq)).toEqual([0, 1, 2, 3]);
    expect(rows[0]!.claims.ev).toBe('boot');
  });

  it("verify exits 1 naming the first invalid token's code, and still prints the valid ones", async () => {
    const sim = await run(['board', 'sim', '--ticks', '2', '--key', KEY]);
    const [t0, t1, t2] = sim.out.trim().split('\n') as [string, string, string];
    const tampered = t1.slice(0, -3) + (t1.endsWith('AAA') ? 'BAA' : 'AAA');
    const v = await run(['msg', 'verify', '--key', KEY], [t0, tampered, 'not.a-token', t2]);
    expect(v.code).toBe(1);
    expect(v.out.trim().split('\n')).toHaveLength(2);
    expect(v.err).toMatch(/first invalid token: FERRY_MSG_(BAD_SIGNATURE|SIGNATURE_ENCODING)/);
    expect(v.err).toMatch(/token 3: FERRY_MSG_/);
  });

  it('verify under the wrong key fails with FERRY_MSG_BAD_SIGNATURE', async () => {
    const sim = await run(['board', 'sim', '--ticks', '1', '--key', KEY]);
    const v = await run(['msg', 'verify', '--key', 'cd'.repeat(32)], sim.out.trim().split('\n'));
    expect(v.code).toBe(1);
    expect(v.err).toMatch(/first invalid token: FERRY_MSG_BAD_SIGNATURE/);
  });

  it('takes the key from FERRY_KEY', async () => {
    const sim = await run(['board', 'sim', '--ticks', '1'], [], { FERRY_KEY: KEY });
    expect(sim.code).toBe(0);
    expect((await run(['msg', 'verify'], sim.out.trim().split('\n'), { FERRY_KEY: KEY })).code).toBe(0);
  });
});

describe('usage errors exit 2 with a clear message', () => {
  it.each([
    [['board', 'sim', '--ticks', '2'], /a key is required/],
    [['board', 'sim', '--key', 'abc'], /hex digits/],
    [['board', 'sim', '--key', 'ab'.repeat(8)], /at least 32 bytes/],
    [['board', 'sim', '--key', KEY, '--ticks', '-1'], /--ticks must be an integer/],
    [['board', 'sim', '--key', KEY, '--wasm', '/nonexistent.wasm'], /no firmware at/],
    [['msg', 'sign', '--kid', 'a', '--ep', '1', '--sq', 'x', '--key', KEY], /--sq must be an integer/],
    [['nope'], /unknown command/],
  ])('%j', async (args, message) => {
    const r = await run(args);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(message);
  });
});

describe("usage errors inside subcommands exit 2 like the root's, with commander's message on stderr", () => {
  it.each([
    [['board', 'sim', '--key', KEY, '--bogus'], /unknown option '--bogus'/],
    [['board', 'sim', '--key', KEY, 'extra'], /too many arguments for 'sim'/],
    [['board', 'inspect'], /missing required argument 'wasm'/],
    [['board', 'nope'], /unknown command 'nope'/],
    [['msg', 'verify', '--key'], /option '--key <hex>' argument missing/],
    [['msg', 'sign', '--key', KEY], /required option '--kid <id>' not specified/],
    [['decode'], /missing required argument 'kind'/],
    [['gateway', 'check-config'], /required option '--config <file>' not specified/],
    [['flash'], /missing required argument 'module.wasm'/],
    [['board', 'upload'], /missing required argument 'module.wasm'/],
    [['board'], /Usage: ferry board /], // a group without its command: help on stderr, as commander reports it
    [[], /Usage: ferry /],
  ])('%j', async (args, message) => {
    const r = await run(args);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(message);
  });

  it('help asked for, at any level, is not an error', async () => {
    for (const args of [['--help'], ['board', '--help'], ['board', 'sim', '--help'], ['help', 'msg'], ['--version']]) {
      expect([args, (await run(args)).code]).toEqual([args, 0]);
    }
  });
});

describe('ferry msg sign / decode', () => {
  it('sign produces a token that verify accepts and decode --header-only reads', async () => {
    const s = await run(['msg', 'sign', '--kid', 'cli-1', '--ep', '4', '--sq', '9', '--iat', '100', '--claims', '{"ev":"tel","d":{"t":20.5}}', '--key', KEY]);
    expect(s.code).toBe(0);
    const v = await run(['msg', 'verify', '--key', KEY, s.out.trim()]);
    expect(JSON.parse(v.out)).toEqual({ header: { kid: 'cli-1', ep: 4, sq: 9 }, claims: { iss: 'cli-1', iat: 100, ev: 'tel', d: { t: 20.5 } } });
    const p = await run(['msg', 'decode', '--header-only', s.out.trim()]);
    expect(JSON.parse(p.out)).toEqual({ kid: 'cli-1', ep: 4, sq: 9 });
  });
});

describe('ferry board inspect', () => {
  it('reports the firmware conforms and lists its imports', async () => {
    const r = await run(['board', 'inspect', 'firmware/build/thermostat.wasm']);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/import dev\.sign \(i32,i32,i32,i32\)->\(i32\)/);
    expect(r.out).toMatch(/conforms to the device ABI/);
  });
  it('refuses a file that is not wasm', async () => {
    const r = await run(['board', 'inspect', 'package.json']);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/FERRY_ABI_MALFORMED/);
  });
});

describe('the installed bin (npx ferry)', () => {
  it('pipes sim into verify through real processes', () => {
    const sim = execFileSync('npx', ['ferry', 'board', 'sim', '--ticks', '2', '--key', KEY], { encoding: 'utf8' });
    const v = spawnSync('npx', ['ferry', 'msg', 'verify', '--key', KEY], { input: sim, encoding: 'utf8' });
    expect(v.status).toBe(0);
    expect(v.stdout.trim().split('\n')).toHaveLength(3);
    const bad = spawnSync('npx', ['ferry', 'msg', 'verify', '--key', KEY], { input: 'x.y.z\n', encoding: 'utf8' });
    expect(bad.status).toBe(1);
    expect(bad.stderr).toMatch(/first invalid token: FERRY_MSG_/);
  });

  describe('ferry cloud start', () => {
    it('refuses a non-loopback address without --insecure as a usage error (exit 2), before starting anything', async () => {
      const r = await run(['cloud', 'start', '--host', '0.0.0.0', '--data', '/nonexistent/never-created']);
      expect(r.code).toBe(2);
      expect(r.err).toMatch(/--host 0\.0\.0\.0 is not a loopback address.*--insecure/);
    });
  });
});
