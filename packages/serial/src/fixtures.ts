/** @module The shared framing vectors (fixtures/frames.json), typed, for the TS tests and hw-tests (C codec). */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface FrameVector {
  readonly name: string;
  readonly kind: number;
  readonly seq: number;
  readonly payload: string;
  readonly wire: string;
}
export type EventVector = { readonly frame: { readonly kind: number; readonly seq: number; readonly payload: string } } | { readonly error: string };
export interface StreamVector {
  readonly name: string;
  readonly wire: string;
  readonly events: readonly EventVector[];
}

export const FIXTURES_FILE = join(dirname(fileURLToPath(import.meta.url)), '../fixtures/frames.json');

export function frameFixtures(): { valid: FrameVector[]; streams: StreamVector[] } {
  return JSON.parse(readFileSync(FIXTURES_FILE, 'utf8')) as { valid: FrameVector[]; streams: StreamVector[] };
}
