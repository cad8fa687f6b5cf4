/**
 * @module The CA the CLI pins for the cloud API (docs/cloud.md "TLS"): `--ca <file>` or FERRY_CA. With one, an
 * https:// request trusts that CA alone (pinnedFetch); without, node's fetch and the system roots.
 */
import { readFileSync } from 'node:fs';
import { pinnedFetch } from '@ferry/mqtt-rest';
import { UsageError } from './usage.ts';

/** The CA from `--ca <file>`, else the file FERRY_CA names; undefined for neither. */
export function readCa(file: string | undefined, env: Readonly<Record<string, string | undefined>>): string | undefined {
  const f = file ?? (env['FERRY_CA'] !== '' ? env['FERRY_CA'] : undefined);
  if (f === undefined) return undefined;
  try {
    return readFileSync(f, 'utf8');
  } catch (e) {
    throw new UsageError(`${file !== undefined ? '--ca' : 'FERRY_CA'} ${f}: ${(e as Error).message}`);
  }
}

/** fetch, except that with a CA an https:// URL trusts that CA alone. */
export function cloudFetch(url: string, init: RequestInit, ca: string | undefined): Promise<Response> {
  return ca === undefined ? fetch(url, init) : pinnedFetch(ca)(url, init);
}
