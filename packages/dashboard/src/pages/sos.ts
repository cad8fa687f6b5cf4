/**
 * @module The composite-streams page (docs/operations.md "Dashboard", "Composite streams"): the caller's
 * service objects (GET /api/v1/sos), one row per stream, with where the object is hosted (the cloud or a
 * gateway) and the stream's counters, refreshed every few seconds; a stream links to its values on the streams
 * page; an operator moves an object's connected component to one of the owner's gateways or back to the cloud
 * (POST /api/v1/sos/{so}/move).
 */
import type { Page, PageContext } from '../page.ts';
import { badge, el } from '../widgets/dom.ts';
import { virtualTable } from '../widgets/table.ts';
import { movePicker, num, refreshing, statusLine } from './refresh.ts';

type Counters = { computed: number; filtered: number; errors: number; droppedNotNewer: number };
type So = { id: string; owner: string; hosted: string; streams: { name: string; counters?: Counters }[] };
type Row = { so: So; stream?: So['streams'][number] };

/** The streams page showing one composite stream's values. */
export const streamLink = (so: string, stream: string): string => `/streams?so=${encodeURIComponent(so)}&stream=${encodeURIComponent(stream)}`;

function mover(ctx: PageContext, so: So, targets: readonly string[], reload: () => Promise<void>): HTMLElement {
  const cell = el('span', 'actions');
  const where = targets.filter((t) => t !== so.hosted);
  if (!ctx.may('operator')) return cell;
  cell.append(
    ...movePicker('so', so.id, where, 'operator', async (to) => {
      await ctx.api(`/api/v1/sos/${encodeURIComponent(so.id)}/move`, { method: 'POST', body: { to } });
      await reload();
    }),
  );
  return cell;
}

export const page: Page = {
  path: '/sos',
  title: 'Composite streams',
  render(root, ctx) {
    const status = statusLine('sos-error');
    const box = el('div');
    root.append(el('h2', undefined, 'Composite streams'), status, box);
    let targets: string[] = ['cloud'];
    const load = async (): Promise<void> => {
      const [{ sos }, gateways] = await Promise.all([
        ctx.api<{ sos: So[] }>('/api/v1/sos?limit=1000'),
        ctx.api<{ id: string }[]>('/api/gateways').catch(() => [] as { id: string }[]),
      ]);
      targets = ['cloud', ...gateways.map((g) => `gateway:${g.id}`)];
      table.setRows(sos.flatMap((so): Row[] => (so.streams.length === 0 ? [{ so }] : so.streams.map((stream) => ({ so, stream })))));
    };
    const table = virtualTable<Row>(box, {
      rowKey: (r) => `${r.so.id}/${r.stream?.name ?? ''}`,
      rowTestId: (r) => `so-row-${r.so.id}-${r.stream?.name ?? ''}`,
      rowHeight: 40,
      columns: [
        { key: 'so', title: 'Object', width: '2fr', cell: (r) => r.so.id },
        {
          key: 'stream',
          title: 'Stream',
          cell: (r) => {
            if (r.stream === undefined) return el('span', 'muted', '—');
            const a = el('a', undefined, r.stream.name);
            a.href = streamLink(r.so.id, r.stream.name);
            a.dataset['testid'] = `so-stream-${r.so.id}-${r.stream.name}`;
            return a;
          },
        },
        { key: 'owner', title: 'Owner', cell: (r) => r.so.owner },
        {
          key: 'hosted',
          title: 'Hosted',
          cell: (r) => Object.assign(badge(r.so.hosted, r.so.hosted === 'cloud' ? 'info' : 'muted'), { title: r.so.hosted }),
        },
        { key: 'computed', title: 'Computed', width: '6rem', cell: (r) => num(r.stream?.counters?.computed) },
        { key: 'filtered', title: 'Filtered', width: '6rem', cell: (r) => num(r.stream?.counters?.filtered) },
        { key: 'errors', title: 'Errors', width: '5rem', cell: (r) => num(r.stream?.counters?.errors) },
        { key: 'move', title: '', width: '14rem', cell: (r) => mover(ctx, r.so, targets, load) },
      ],
    });
    const stop = refreshing(status, load);
    return () => {
      stop();
      table.destroy();
    };
  },
};
