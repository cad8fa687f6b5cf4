/**
 * @module The one check over every error catalog of the tree. It loads each source file that defines a
 * catalog (a `defineErrors(` call; found by walking the tree, so a new catalog cannot be forgotten) and
 * checks that docs/errors.md lists every code with its number, HTTP status and meaning under its catalog's
 * heading, that the ranges table matches the catalogs, that no two ranges overlap and every number lies in
 * its catalog's range, and that no docs page or source file names a code that does not exist.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { errorCatalogs, type ErrorCatalog } from './errors.ts';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const SOURCE_DIRS = ['packages', 'gateway', 'cloud', 'firmware/emulator', 'cli/src', 'bench', 'e2e'];
const SKIP_DIR = /(^|\/)(node_modules|build)(\/|$)/;
const SELF = 'packages/base/src/errors.ts';

/** Every non-test TypeScript source file, relative to the root. */
function sources(): string[] {
  return SOURCE_DIRS.flatMap((dir) =>
    (readdirSync(join(root, dir), { recursive: true }) as string[])
      .map((f) => `${dir}/${f}`)
      .filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts') && !f.endsWith('.d.ts') && !SKIP_DIR.test(f)),
  );
}

/** A registered catalog and the source file that defines it. */
interface Catalog {
  readonly prefix: string;
  readonly file: string;
  readonly range: readonly [number, number];
  readonly package: string;
  readonly codes: ErrorCatalog['codes'];
}

const doc = readFileSync(join(root, 'docs/errors.md'), 'utf8');

/** `| lo-hi | \`PREFIX*\` | \`package\` | where |` rows of the ranges table. */
const rangeRows = [...doc.matchAll(/^\| (\d+)-(\d+) \| `(FERRY_[A-Z0-9_]*_)\*` \| `(@ferry\/[a-z-]+)` \| (.+) \|$/gm)].map((m) => ({
  lo: Number(m[1]),
  hi: Number(m[2]),
  prefix: m[3]!,
  package: m[4]!,
  where: m[5]!,
}));

/** `### \`PREFIX*\` (lo-hi)` sections and the code rows `| \`CODE\` | num | status | meaning |` of each. */
const sections = doc
  .split(/^### /m)
  .slice(1)
  .map((text) => {
    const h = /^`(FERRY_[A-Z0-9_]*_)\*` \((\d+)-(\d+)\)$/m.exec(text.split('\n')[0]!);
    const rows = [...text.matchAll(/^\| `(FERRY_[A-Z0-9_]+)` \| (\d+) \| (\d{3}) \| (.+) \|$/gm)].map((m) => ({
      code: m[1]!,
      num: Number(m[2]),
      status: Number(m[3]),
      doc: m[4]!.replaceAll('\\|', '|'),
    }));
    return { heading: text.split('\n')[0]!, prefix: h?.[1], lo: Number(h?.[2]), hi: Number(h?.[3]), rows };
  });
const allRows = [...doc.matchAll(/^\| `(FERRY_[A-Z0-9_]+)` \| \d+ \| \d{3} \|/gm)].map((m) => m[1]!);

let catalogs: Catalog[] = [];

beforeAll(async () => {
  const files = sources();
  const definers = files.filter((f) => f !== SELF && readFileSync(join(root, f), 'utf8').includes('defineErrors('));
  const loaded = new Map<string, Record<string, unknown>>();
  for (const f of definers) loaded.set(f, (await import(join(root, f))) as Record<string, unknown>);
  const fileOf = (c: ErrorCatalog): string => [...loaded].find(([, m]) => Object.values(m).includes(c.codes))?.[0] ?? '?';
  catalogs = errorCatalogs().map((c) => ({ prefix: c.prefix, file: fileOf(c), range: c.range, package: c.package, codes: c.codes }));
});

describe('error catalogs', () => {
  it('are all found: every file that calls defineErrors registered its catalog, and the known ones are there', () => {
    const prefixes = catalogs.map((c) => c.prefix);
    for (const p of [
      'FERRY_ABI_',
      'FERRY_MSG_',
      'FERRY_RULES_',
      'FERRY_SERIAL_',
      'FERRY_DECODE_',
      'FERRY_GW_BLE_',
      'FERRY_GW_SERIAL_',
      'FERRY_GW_',
      'FERRY_CTL_',
      'FERRY_API_',
      'FERRY_WASM_',
      'FERRY_FN_',
      'FERRY_INGEST_',
      'FERRY_STORE_',
      'FERRY_DEVICE_',
    ]) {
      expect(prefixes, p).toContain(p);
    }
    expect(catalogs.filter((c) => c.file === '?').map((c) => c.prefix)).toEqual([]);
    expect(new Set(prefixes).size).toBe(prefixes.length);
  });

  it("use every code once across the tree, each with its catalog's prefix", () => {
    const codes = catalogs.flatMap((c) => Object.keys(c.codes));
    expect(codes.length - new Set(codes).size).toBe(0);
    for (const c of catalogs) for (const code of Object.keys(c.codes)) expect(code.startsWith(c.prefix), code).toBe(true);
  });

  it('have the range the ranges table of docs/errors.md gives, and every number inside it', () => {
    for (const c of catalogs) {
      const row = rangeRows.find((r) => r.prefix === c.prefix);
      expect(row, `${c.prefix} has no row in the ranges table`).toBeDefined();
      expect([row!.lo, row!.hi, row!.package], c.prefix).toEqual([c.range[0], c.range[1], c.package]);
      expect(row!.where, c.prefix).toContain(c.file);
      for (const [code, s] of Object.entries(c.codes)) expect(s.num >= row!.lo && s.num <= row!.hi, `${code} ${s.num}`).toBe(true);
    }
  });

  it('ranges never overlap, are listed in order, and each belongs to a catalog or is marked reserved', () => {
    expect(rangeRows.length).toBeGreaterThanOrEqual(catalogs.length);
    for (const [i, r] of rangeRows.entries()) {
      expect(r.lo <= r.hi, r.prefix).toBe(true);
      if (i > 0) expect(r.lo > rangeRows[i - 1]!.hi, `${r.prefix} overlaps or precedes ${rangeRows[i - 1]!.prefix}`).toBe(true);
      if (!catalogs.some((c) => c.prefix === r.prefix)) expect(r.where, r.prefix).toMatch(/^reserved/);
    }
    const nums = catalogs.flatMap((c) => Object.values(c.codes).map((s) => s.num));
    expect(nums.length - new Set(nums).size).toBe(0);
  });
});

describe('docs/errors.md', () => {
  it('lists each catalog under its own heading, row for row: code, number, HTTP status, meaning, in catalog order', () => {
    for (const c of catalogs) {
      const s = sections.find((x) => x.prefix === c.prefix);
      expect(s, `no "### \`${c.prefix}*\` (lo-hi)" section`).toBeDefined();
      const row = rangeRows.find((r) => r.prefix === c.prefix)!;
      expect([s!.lo, s!.hi], s!.heading).toEqual([row.lo, row.hi]);
      const want = Object.entries(c.codes).map(([code, spec]) => ({ code, num: spec.num, status: spec.status, doc: spec.doc }));
      expect(s!.rows, c.prefix).toEqual(want);
    }
  });

  it('lists no code that is in no catalog, and every status is an HTTP error status', () => {
    const known = new Set(catalogs.flatMap((c) => Object.keys(c.codes)));
    expect(allRows.filter((code) => !known.has(code))).toEqual([]);
    expect(allRows.length).toBe(known.size);
    for (const s of sections) for (const r of s.rows) expect(r.status >= 400 && r.status <= 599, r.code).toBe(true);
  });

  it('has a section for every catalog only, in the order of the ranges table', () => {
    const order = sections.map((s) => s.prefix);
    expect(order).toEqual(rangeRows.map((r) => r.prefix));
  });
});

/** Macros the C board defines (FERRY_ABI_H, FERRY_ABI_MODULE_COUNT, ...): C names that share a prefix, not codes. */
function cMacros(): Set<string> {
  const names = new Set<string>();
  for (const dir of ['firmware/host', 'firmware/esp32']) {
    for (const f of readdirSync(join(root, dir), { recursive: true }) as string[]) {
      if (!/\.[ch]$/.test(f) || SKIP_DIR.test(f)) continue;
      for (const m of readFileSync(join(root, dir, f), 'utf8').matchAll(/#\s*define\s+(FERRY_\w+)/g)) names.add(m[1]!);
    }
  }
  return names;
}

describe('codes named elsewhere', () => {
  const macros = cMacros();
  /** The catalog a code-like token belongs to: the one with the longest matching prefix, if any. */
  const owner = (token: string): Catalog | undefined => catalogs.filter((c) => token.startsWith(c.prefix)).sort((a, b) => b.prefix.length - a.prefix.length)[0];
  const unknownIn = (text: string): string[] =>
    [...new Set([...text.matchAll(/\bFERRY_[A-Z0-9_]*[A-Z0-9]\b/g)].map((m) => m[0]))].filter((t) => {
      const c = owner(t);
      return c !== undefined && !(t in c.codes) && !macros.has(t);
    });

  it('docs pages and READMEs name only codes that exist', () => {
    const pages = [
      ...readdirSync(join(root, 'docs'))
        .filter((f) => f.endsWith('.md'))
        .map((f) => `docs/${f}`),
      'README.md',
      'firmware/host/README.md',
    ];
    const bad = pages.flatMap((p) => unknownIn(readFileSync(join(root, p), 'utf8')).map((t) => `${p}: ${t}`));
    expect(bad).toEqual([]);
  });

  it('source files name only codes that exist (string literals and comments alike)', () => {
    const bad = sources().flatMap((f) => unknownIn(readFileSync(join(root, f), 'utf8')).map((t) => `${f}: ${t}`));
    expect(bad).toEqual([]);
  });
});
