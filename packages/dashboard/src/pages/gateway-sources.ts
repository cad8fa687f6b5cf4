/**
 * @module The gateway's sources page (docs/gateway.md, "Dashboard"): each source (BLE scanner, serial sensor,
 * board) with its state, last input and restarts, and the last reading of each sensor heard, from
 * `GET /api/sources`, refreshed every few seconds.
 */
import type { Page, PageContext } from '../page.ts';
import { badge, el, when } from '../widgets/dom.ts';
import { virtualTable } from '../widgets/table.ts';
import { errorLine, fitRows, poll } from './ops-common.ts';

export interface SourceRow {
  readonly name: string;
  readonly kind: string;
  readonly up: boolean;
  readonly lastInputMs: number | null;
  readonly counters: Readonly<Record<string, number>>;
  readonly restarts: number;
  readonly failing?: string;
}
export interface ReadingRow {
  readonly device: string;
  readonly kind: string;
  readonly atMs: number;
  readonly values: Readonly<Record<string, number | string | boolean>>;
}

const REFRESH_MS = 3000;

/** `a=1, b=2` */
export const pairs = (o: Readonly<Record<string, unknown>>): string =>
  Object.entries(o)
    .map(([k, v]) => `${k}=${String(v)}`)
    .join(', ');

function render(root: HTMLElement, ctx: PageContext): () => void {
  const error = errorLine('sources-error');
  const sourcesBox = el('div');
  const readingsBox = el('div');
  root.replaceChildren(el('h2', undefined, 'Sources'), error.node, sourcesBox, el('h3', undefined, 'Last reading of each sensor'), readingsBox);
  const sources = virtualTable<SourceRow>(sourcesBox, {
    columns: [
      { key: 'name', title: 'Source', width: '2fr', cell: (s) => s.name },
      { key: 'kind', title: 'Kind', width: '6rem', cell: (s) => s.kind },
      {
        key: 'state',
        title: 'State',
        width: '6rem',
        cell: (s) => {
          const b = badge(s.up ? 'up' : 'down', s.up ? 'ok' : 'bad');
          if (s.failing !== undefined) b.title = s.failing;
          return b;
        },
      },
      { key: 'last', title: 'Last input', width: '9rem', cell: (s) => when(s.lastInputMs ?? undefined) },
      { key: 'restarts', title: 'Restarts', width: '5rem', cell: (s) => String(s.restarts) },
      { key: 'counters', title: 'Counters', width: '3fr', cell: (s) => pairs(s.counters) },
    ],
    rowKey: (s) => s.name,
    rowTestId: (s) => `source-row-${s.name}`,
  });
  const readings = virtualTable<ReadingRow>(readingsBox, {
    columns: [
      { key: 'device', title: 'Sensor', width: '2fr', cell: (r) => r.device },
      { key: 'kind', title: 'Kind', width: '6rem', cell: (r) => r.kind },
      { key: 'at', title: 'At', width: '9rem', cell: (r) => when(r.atMs) },
      { key: 'values', title: 'Values', width: '3fr', cell: (r) => pairs(r.values) },
    ],
    rowKey: (r) => r.device,
    rowTestId: (r) => `reading-row-${r.device}`,
  });
  const refresh = async (): Promise<void> => {
    const r = await ctx.api<{ sources: SourceRow[]; readings: ReadingRow[] }>('/api/sources');
    sources.setRows(r.sources);
    readings.setRows(r.readings);
    fitRows(sourcesBox, r.sources.length, 8);
    fitRows(readingsBox, r.readings.length, 16);
    error.clear();
  };
  const stop = poll(refresh, REFRESH_MS, error.fail);
  return () => {
    stop();
    sources.destroy();
    readings.destroy();
  };
}

export const page: Page = { path: '/sources', title: 'Sources', render };
