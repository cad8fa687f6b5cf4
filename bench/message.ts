/**
 * @module bench:message — encode+sign and decode+verify throughput of the envelope, next to its limits,
 * all in one run: the firmware module signing in the emulated board (tick = read + decide + one signed
 * telemetry message), the TS encoder, our verifier, jose's compactVerify, and a bare node:crypto HMAC
 * over the same signing input (the floor any HS256 verifier pays).
 */
import { createHmac, createSecretKey } from 'node:crypto';
import { compactVerify } from 'jose';
import { EmulatedBoard } from '@ferry/firmware';
import { encode, verify, type Message } from '@ferry/message';
import { hmacKey } from '@ferry/message/node';
import { fmt, measureInterleaved, progress, type Figure } from './lib.ts';

const RUNS = Number(process.env['BENCH_RUNS'] ?? 7);
const secret = new Uint8Array(32).map((_, i) => i * 3 + 1);
const key = hmacKey(secret);
const message: Message = {
  header: { kid: 'th-01', ep: 3, sq: 1234 },
  claims: { iss: 'th-01', iat: 1767225610, ev: 'tel', d: { t: 21.5, tmin: 19.87, n: 3, sp: 21, heat: false } },
};
const enc = encode(message, key);
if (!enc.ok) throw enc.error;
const token = enc.value;
const tokenBytes = new TextEncoder().encode(token);
const signingInput = tokenBytes.subarray(0, token.lastIndexOf('.'));
const keyObject = createSecretKey(secret);

const bar = progress(RUNS * 7, 'bench:message');
const board = await EmulatedBoard.create({ key: secret, seed: 1 });
await board.boot();
const figures: Figure[] = await measureInterleaved(
  [
    { name: 'firmware tick+sign (emulated board)', fn: () => board.tick() },
    { name: 'TS encode+sign', fn: () => encode(message, key) },
    { name: 'bare HMAC-SHA256 (node:crypto createHmac)', fn: () => createHmac('sha256', keyObject).update(signingInput).digest() },
    { name: 'our HMAC port alone (hmacKey)', fn: () => key.mac(signingInput) },
    { name: 'ours: verify (bytes)', fn: () => verify(tokenBytes, key) },
    { name: 'ours: verify (string)', fn: () => verify(token, key) },
    { name: 'jose compactVerify', fn: () => compactVerify(token, secret), async: true },
  ],
  { runs: RUNS, bar },
);
bar.stop();

const get = (n: string): number => figures.find((f) => f.name.startsWith(n))!.opsPerSec;
const ratios = {
  verify_vs_bare_hmac: get('ours: verify (bytes)') / get('bare HMAC'),
  verify_string_vs_bare_hmac: get('ours: verify (string)') / get('bare HMAC'),
  verify_vs_jose: get('ours: verify (bytes)') / get('jose'),
  ts_encode_vs_firmware_tick: get('TS encode') / get('firmware tick'),
};
console.log(`token ${tokenBytes.length} bytes; medians of ${RUNS} runs`);
for (const f of figures) console.log(`  ${f.name.padEnd(40)} ${fmt(f.opsPerSec).padStart(10)}`);
console.log(
  `  our verifier at ${(ratios.verify_vs_bare_hmac * 100).toFixed(0)} % of the bare-HMAC limit (goal >= 80 %), ${ratios.verify_vs_jose.toFixed(1)}x jose (goal >= 5x)`,
);
console.log(
  JSON.stringify({
    bench: 'message',
    runs: RUNS,
    token_bytes: tokenBytes.length,
    ops_per_sec: Object.fromEntries(figures.map((f) => [f.name, Math.round(f.opsPerSec)])),
    ratios: Object.fromEntries(Object.entries(ratios).map(([k, v]) => [k, Number(v.toFixed(3))])),
  }),
);
