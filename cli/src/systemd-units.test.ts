/**
 * The systemd units of deploy/systemd (docs/operations.md): systemd itself reads them without a complaint
 * (`systemd-analyze verify`, where installed), and each keeps what recovery depends on.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const dir = fileURLToPath(new URL('../../deploy/systemd/', import.meta.url));
const UNITS = ['ferry-cloud.service', 'ferry-gateway.service'];
const analyze = spawnSync('systemd-analyze', ['--version']).status === 0;

/** The `Key=value` lines of one section. */
function section(text: string, name: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  let inside = false;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line.startsWith('[')) inside = line === `[${name}]`;
    else if (inside && line !== '' && !line.startsWith('#')) {
      const i = line.indexOf('=');
      const k = line.slice(0, i);
      out.set(k, [...(out.get(k) ?? []), line.slice(i + 1)]);
    }
  }
  return out;
}

describe('systemd units', () => {
  it.each(UNITS)('%s restarts always, is a notify service with a watchdog, and is hardened', (unit) => {
    const s = section(readFileSync(join(dir, unit), 'utf8'), 'Service');
    expect(s.get('Type')).toEqual(['notify']);
    expect(s.get('NotifyAccess')).toEqual(['main']); // only the process itself may say READY or WATCHDOG
    expect(s.get('Restart')).toEqual(['always']);
    expect(Number(s.get('WatchdogSec')?.[0])).toBeGreaterThan(0);
    for (const k of ['NoNewPrivileges', 'ProtectSystem', 'ProtectHome', 'PrivateTmp', 'RestrictAddressFamilies', 'SystemCallFilter', 'StateDirectory'])
      expect([k, s.has(k)]).toEqual([k, true]);
    expect(s.get('ExecStart')?.[0]).toMatch(/ferry (cloud|gateway) start/);
  });

  it.skipIf(!analyze)('systemd-analyze verify reads both without a warning', () => {
    const tmp = mkdtempSync(join(tmpdir(), 'ferry-units-'));
    // The program must exist where verify runs: the installed path is checked by the install steps instead.
    for (const u of UNITS) writeFileSync(join(tmp, u), readFileSync(join(dir, u), 'utf8').replace(/^ExecStart=\S+/m, 'ExecStart=/bin/true'));
    const r = spawnSync('systemd-analyze', ['verify', ...UNITS.map((u) => join(tmp, u))], { encoding: 'utf8' });
    expect(r.stderr.split('\n').filter((l) => l.includes('.service'))).toEqual([]);
    expect(r.status).toBe(0);
  });
});
