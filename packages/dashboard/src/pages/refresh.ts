/**
 * @module What the list pages (rules, composite streams, functions, commands) share: a refresh loop that
 * runs one load at a time every few seconds until stopped, showing a failed load in the page's status line
 * rather than throwing, a number cell that stays readable (— for none), and the move picker of the rules and
 * composite-streams pages.
 */
import type { Role } from '../page.ts';
import { button, el } from '../widgets/dom.ts';

/** How often list pages reload their counters (docs/operations.md "Dashboard"). */
export const REFRESH_MS = 3000;

/**
 * Runs `load` now and every `ms` after the previous one finished; its failure goes to `status` (and clears on
 * the next success). Returns what stops it.
 */
export function refreshing(status: HTMLElement, load: () => Promise<void>, ms = REFRESH_MS): () => void {
  let stopped = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const tick = async (): Promise<void> => {
    try {
      await load();
      status.textContent = '';
      status.hidden = true;
    } catch (e) {
      status.textContent = e instanceof Error ? e.message : String(e);
      status.hidden = false;
    }
    if (!stopped) timer = setTimeout(() => void tick(), ms);
  };
  void tick();
  return () => {
    stopped = true;
    if (timer !== undefined) clearTimeout(timer);
  };
}

/** The status line a page shows its load failures in. */
export function statusLine(testId: string): HTMLElement {
  const p = el('p', 'error');
  p.setAttribute('role', 'alert');
  p.dataset['testid'] = testId;
  p.hidden = true;
  return p;
}

/** A count as a table cell: its number, or — when there is none; `testId` for the browser tests. */
export function num(n: number | null | undefined, testId?: string): HTMLElement {
  const s = el('span', 'num', n === null || n === undefined ? '—' : String(n));
  if (testId !== undefined) s.dataset['testid'] = testId;
  return s;
}

/** The target each picker shows, by its test id: kept across the refreshes that redraw the rows. */
const chosen = new Map<string, string>();

/**
 * A target picker and a Move button (`<prefix>-move-to-<id>`, `<prefix>-move-<id>`) calling `move` with the
 * picked target; nothing when there is no target.
 */
export function movePicker(prefix: string, id: string, targets: readonly string[], role: Role, move: (target: string) => Promise<void>): HTMLElement[] {
  if (targets.length === 0) return [];
  const to = el('select');
  const key = `${prefix}-move-to-${id}`;
  to.dataset['testid'] = key;
  for (const t of targets) to.append(Object.assign(el('option', undefined, t), { value: t }));
  const keep = chosen.get(key);
  if (keep !== undefined && targets.includes(keep)) to.value = keep;
  to.addEventListener('change', () => chosen.set(key, to.value));
  return [to, button('Move', () => move(to.value), { testId: `${prefix}-move-${id}`, role })];
}
