/**
 * @module The functions page (docs/operations.md "Dashboard", "Functions"): the owner's functions by content
 * hash (GET /api/v1/functions) with their calls, errors, the last error's code and the last call, the most
 * recently called first, refreshed every few seconds. A global credential names the owner (`?owner=` in the
 * page's URL, kept there so the view can be bookmarked).
 */
import type { Page } from '../page.ts';
import { badge, el, when } from '../widgets/dom.ts';
import { virtualTable } from '../widgets/table.ts';
import { num, refreshing, statusLine } from './refresh.ts';

type Fn = { hash: string; calls: number; errors: number; lastCallMs: number; lastError?: string };

export const page: Page = {
  path: '/functions',
  title: 'Functions',
  render(root, ctx) {
    const status = statusLine('functions-error');
    const toolbar = el('div', 'toolbar');
    const box = el('div');
    root.append(el('h2', undefined, 'Functions'), toolbar, status, box);
    let owner = new URLSearchParams(location.search).get('owner') ?? '';
    if (ctx.session.owner === undefined) {
      const input = el('input');
      input.placeholder = 'owner';
      input.value = owner;
      input.dataset['testid'] = 'functions-owner';
      input.addEventListener('change', () => {
        owner = input.value.trim();
        history.replaceState(null, '', owner === '' ? '/functions' : `/functions?owner=${encodeURIComponent(owner)}`);
        void load().catch(() => undefined);
      });
      toolbar.append(el('label', undefined, 'Owner '), input);
    }
    const load = async (): Promise<void> => {
      if (ctx.session.owner === undefined && owner === '') {
        table.setRows([]);
        return;
      }
      const q = ctx.session.owner === undefined ? `&owner=${encodeURIComponent(owner)}` : '';
      table.setRows((await ctx.api<{ functions: Fn[] }>(`/api/v1/functions?limit=1000${q}`)).functions);
    };
    const table = virtualTable<Fn>(box, {
      rowKey: (f) => f.hash,
      rowTestId: (f) => `function-row-${f.hash}`,
      columns: [
        {
          key: 'hash',
          title: 'Hash (SHA-256)',
          width: '3fr',
          cell: (f) => {
            const c = el('code', undefined, `${f.hash.slice(0, 16)}…`);
            c.title = f.hash;
            return c;
          },
        },
        { key: 'calls', title: 'Calls', width: '6rem', cell: (f) => num(f.calls, `function-calls-${f.hash}`) },
        { key: 'errors', title: 'Errors', width: '6rem', cell: (f) => num(f.errors, `function-errors-${f.hash}`) },
        {
          key: 'lastError',
          title: 'Last error',
          width: '2fr',
          cell: (f) => (f.lastError === undefined ? el('span', 'muted', '—') : badge(f.lastError, 'bad')),
        },
        { key: 'last', title: 'Last call', width: '10rem', cell: (f) => when(f.lastCallMs) },
      ],
    });
    const stop = refreshing(status, load);
    return () => {
      stop();
      table.destroy();
    };
  },
};
