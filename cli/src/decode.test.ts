/** `ferry decode` on real frames: the BTHome spec's encryption example, the MH-Z19B manual's 544 ppm answer. */
import { createCipheriv } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { main } from './main.ts';
import { memoryIo } from './io.ts';

const run = async (args: string[]) => {
  const io = memoryIo();
  const code = await main(['node', 'ferry', 'decode', ...args], io);
  return { code, out: io.stdout.join(''), err: io.stderr.join('') };
};
const SPEC = ['bthome', 'd2fc41a47266c95f730011223378237214', '--key', '231d39c1d7cc1ab1aee224cd096db932', '--mac', '54:48:E6:8F:80:A5'];

describe('ferry decode', () => {
  it('decrypts the BTHome specification example (25.06 °C, 50.55 %)', async () => {
    const r = await run(SPEC);
    expect(r.code).toBe(0);
    const v = JSON.parse(r.out) as { encrypted: boolean; objects: { name: string; value: number }[] };
    expect(v.encrypted).toBe(true);
    expect(v.objects.map((o) => [o.name, o.value])).toEqual([
      ['temperature', 25.06],
      ['humidity', 50.55],
    ]);
  });
  it('names a bad MIC, a replayed counter, a bad checksum and truncation', async () => {
    const tampered = [...SPEC];
    tampered[1] = 'd2fc41a47266c95f730011223378237215';
    expect((await run(tampered)).err).toMatch(/^FERRY_DECODE_BAD_MIC/);
    const replayed = await run([...SPEC, '--last-counter', String(0x33221100)]);
    expect([replayed.code, replayed.err]).toEqual([1, expect.stringMatching(/^FERRY_DECODE_REPLAYED/)]);
    expect((await run(['mhz19', 'ff8602200000000059'])).err).toMatch(/^FERRY_DECODE_BAD_CHECKSUM/);
    expect((await run(['pms5003', '424d001c'])).err).toMatch(/^FERRY_DECODE_TRUNCATED/);
    expect((await run(['bthome', 'zz'])).err).toMatch(/^FERRY_DECODE_/);
  });
  it('decodes the MH-Z19B datasheet answer as 544 ppm', async () => {
    const r = await run(['mhz19', 'ff8602200000000058']);
    expect(JSON.parse(r.out)).toMatchObject({ co2Ppm: 544 });
  });
  // Regression: --key demanded --mac even when the advert carries its own address (device info bit 1).
  it('decrypts with --key alone when the advert carries its MAC; without either it names the missing MAC', async () => {
    const key = Buffer.from('231d39c1d7cc1ab1aee224cd096db932', 'hex');
    const mac = Buffer.from('5448E68F80A5', 'hex');
    const info = 0x43; // version 2, MAC included, encrypted
    const counter = Buffer.from('00112233', 'hex');
    // bthome.io/encryption: nonce = MAC · D2 FC · info · counter; AES-128-CCM with a 4-byte MIC.
    const cipher = createCipheriv('aes-128-ccm', key, Buffer.concat([mac, Buffer.from([0xd2, 0xfc, info]), counter]), { authTagLength: 4 });
    const body = Buffer.concat([cipher.update(Buffer.from('02ca0903bf13', 'hex')), cipher.final()]);
    const advert = Buffer.concat([Buffer.from([info]), Buffer.from(mac).reverse(), body, counter, cipher.getAuthTag()]).toString('hex');
    const r = await run(['bthome', advert, '--key', key.toString('hex')]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out) as { mac: string; objects: { value: number }[] }).toMatchObject({
      mac: '54:48:E6:8F:80:A5',
      objects: [{ value: 25.06 }, { value: 50.55 }],
    });
    const noMac = await run(SPEC.slice(0, 4));
    expect([noMac.code, noMac.err]).toEqual([1, expect.stringMatching(/^FERRY_DECODE_MAC_REQUIRED/)]);
  });
});
