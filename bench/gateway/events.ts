/** @module bench:gateway's input: BTHome adverts from the test vectors, decoded, and the single-filter rule they go through. */
import { decodeBthome, parseHex, type BthomeAdvert } from '@ferry/gateway/decoders';
import { toReading } from '../../gateway/src/bthome/advert.ts';
import { ENCRYPTED_VECTORS, PLAIN_VECTORS, type BthomeVector } from '../../gateway/src/bthome/fixtures/vectors.ts';
import type { Reading } from '../../gateway/src/sources/types.ts';
import { DAEMON_EVENTS, EVENTS, THRESHOLD } from './config.ts';

// The events: BTHome service data from the vectors that carry a temperature; four at or below the
// threshold, four above, so exactly half pass. Encrypted ones are decrypted (AES-CCM) on every decode.
export const PICK: readonly (readonly [string, boolean])[] = [
  ['test_bthome_temperature_humidity', false], // 25.06
  ['test_bthome_packet_id_temperature_humidity_battery', false], // 23.97
  ['test_bthome_double_temperature', false], // 25.06, 25.11 (temperature, temperature_2)
  ['test_bindkey_correct (= SPEC example)', false], // encrypted, 25.06
  ['test_bthome_temperature_2', true], // 0x45: 27.3
  ['test_shelly_blu_ht_display_zb', true], // 27.8
  ['test_reset_encryption_counter #1', true], // encrypted, 25.07
  ['test_reset_encryption_counter #2', true], // encrypted, 25.07
];
export interface Advert {
  readonly test: string;
  readonly bytes: Uint8Array;
  readonly key: Uint8Array | undefined;
  readonly mac: string | undefined;
  readonly device: string;
}
const vectors: readonly BthomeVector[] = [...PLAIN_VECTORS, ...ENCRYPTED_VECTORS];
const hexBytes = (h: string): Uint8Array => {
  const r = parseHex(h);
  if (!r.ok) throw new Error(r.error.message);
  return r.value;
};
export const DEVICES = 50;
export const adverts: Advert[] = [];
for (let d = 0; d < DEVICES; d++) {
  for (const [test] of PICK) {
    const v = vectors.find((x) => x.test === test);
    if (v === undefined) throw new Error(`vector ${test} not found`);
    // Encrypted adverts keep the vector's MAC (it is in the nonce); plain ones come from DEVICES sensors.
    const device = v.mac ?? `A4:C1:38:00:00:${d.toString(16).padStart(2, '0').toUpperCase()}`;
    adverts.push({ test, bytes: hexBytes(v.hex), key: v.key === undefined ? undefined : hexBytes(v.key), mac: v.mac, device });
  }
}
export const decodeOne = (a: Advert): BthomeAdvert => {
  const r = decodeBthome(a.bytes, { key: a.key, mac: a.mac });
  if (!r.ok) throw new Error(`${a.test}: ${r.error.message}`);
  return r.value;
};
// The records the rule sees, built once for Node-RED's input and to count the expected outputs.
export const recordOf = (r: Reading): Record<string, unknown> => ({ device: r.device, kind: r.kind, ...r.values });
export const sampleRecords = adverts.map((a) => recordOf(toReading(a.device, decodeOne(a), 0, -60)));
const passes = (rec: Record<string, unknown>): boolean => typeof rec['temperature'] === 'number' && rec['temperature'] > THRESHOLD;
const passing = (n: number): number => Array.from({ length: n }, (_, i) => passes(sampleRecords[i % sampleRecords.length]!)).filter(Boolean).length;
export const expectedOutputs = passing(EVENTS);
export const expectedDaemon = passing(DAEMON_EVENTS);
for (const [k, [test, pass]] of PICK.entries()) {
  if (passes(sampleRecords[k]!) !== pass)
    throw new Error(`vector ${test}: temperature ${String(sampleRecords[k]!['temperature'])} does not ${pass ? 'pass' : 'fail'} > ${THRESHOLD}`);
}

export const singleFilter = (runtime: string, input: string, output: string) => ({
  headers: { runtime, targetResource: 'bench', jobType: 'single-filter' },
  jobConfig: { connectors: { input, output }, jobProps: { condition: 'gt', threshold: THRESHOLD, fieldName: 'temperature' } },
});
