/**
 * @module What the list pages (rules, composite streams, functions, commands) share: a refresh loop that
 * runs one load at a time every few seconds until stopped, showing a failed load in the page's status line
 * rather than throwing, and a number cell that stays readable (— for none).
 */
import { el } from '../widgets/dom.ts';

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
