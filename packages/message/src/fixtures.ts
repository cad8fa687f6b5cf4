/**
 * @module Loads the envelope fixtures (packages/message/fixtures) for every codec's tests: the TS codec,
 * the AssemblyScript builder (run in the emulated board) and, later, the C host.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Claims, FerryHeader } from './codec.ts';
import type { MessageErrorCode } from './errors.ts';

export const FIXTURES_DIR = join(dirname(fileURLToPath(import.meta.url)), '../fixtures');

export interface ValidFixture {
  readonly name: string;
  readonly description: string;
  readonly keys: Readonly<Record<string, string>>;
  readonly header: FerryHeader;
  readonly claims: Claims;
  readonly token: string;
}

export interface ErrorFixture {
  readonly name: string;
  readonly description: string;
  readonly keys: Readonly<Record<string, string>>;
  readonly token: string;
  readonly code: MessageErrorCode;
}

function load<T>(kind: 'valid' | 'error'): T[] {
  const d = join(FIXTURES_DIR, kind);
  return readdirSync(d)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => ({ name: f.replace(/\.json$/, ''), ...(JSON.parse(readFileSync(join(d, f), 'utf8')) as object) }) as T);
}

export const validFixtures = (): ValidFixture[] => load<ValidFixture>('valid');
export const errorFixtures = (): ErrorFixture[] => load<ErrorFixture>('error');
