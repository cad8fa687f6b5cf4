/** gateway.yaml's uplink TLS files (docs/gateway.md "TLS"): checked with the URL, read as PEM, a missing file named. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig, uplinkTls } from './config.ts';

const gateway = { id: 'gw-7', key: '5a'.repeat(32) };
const issues = (uplink: Record<string, unknown>): readonly string[] => {
  try {
    parseConfig({ gateway, uplink });
  } catch (e) {
    if (e instanceof ConfigError) return e.issues;
    throw e;
  }
  return [];
};

describe('gateway.yaml uplink TLS', () => {
  it('takes ca, cert and key only with an mqtts:// url, and cert with key', () => {
    expect(issues({ url: 'mqtts://cloud.lab:8883', ca: 'ca.pem', cert: 'gw.pem', key: 'gw.key' })).toEqual([]);
    expect(issues({ url: 'mqtt://cloud.lab:1883', ca: 'ca.pem' })).toEqual(['uplink: ca, cert and key need an mqtts:// url']);
    expect(issues({ url: 'mqtts://cloud.lab:8883', cert: 'gw.pem' })).toEqual(['uplink: give both cert and key, or neither']);
  });

  it('reads the files as PEM, nothing without them, and names a file it cannot read', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ferry-gw-tls-'));
    writeFileSync(join(dir, 'ca.pem'), 'CA PEM');
    writeFileSync(join(dir, 'gw.pem'), 'CERT PEM');
    writeFileSync(join(dir, 'gw.key'), 'KEY PEM');
    const url = 'mqtts://cloud.lab:8883';
    expect(uplinkTls(parseConfig({ gateway, uplink: { url } }))).toBeUndefined();
    expect(uplinkTls(parseConfig({ gateway, uplink: { url, ca: join(dir, 'ca.pem') } }))).toEqual({ ca: 'CA PEM' });
    expect(uplinkTls(parseConfig({ gateway, uplink: { url, ca: join(dir, 'ca.pem'), cert: join(dir, 'gw.pem'), key: join(dir, 'gw.key') } }))).toEqual({
      ca: 'CA PEM',
      cert: 'CERT PEM',
      key: 'KEY PEM',
    });
    expect(() => uplinkTls(parseConfig({ gateway, uplink: { url, ca: join(dir, 'missing.pem') } }))).toThrow(/uplink\.ca: cannot read .*missing\.pem/);
  });
});
