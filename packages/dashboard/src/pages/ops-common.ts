/**
 * @module What the operations pages (alarms, health, the gateway's three) share: an error line, polling, a
 * table sized to its rows, facts as a two-column list, and a check list with badges.
 */
import { badge, el } from '../widgets/dom.ts';

/** A hidden error paragraph and what shows an error in it (`clear` hides it again). */
export function errorLine(testId: string): { readonly node: HTMLElement; fail(e: unknown): void; clear(): void } {
  const node = el('p', 'error');
  node.hidden = true;
  node.dataset['testid'] = testId;
  return {
    node,
    fail(e) {
      node.textContent = e instanceof Error ? e.message : String(e);
      node.hidden = false;
    },
    clear() {
      node.hidden = true;
    },
  };
}

/** Runs `f` now and every `everyMs`, errors to `fail`; returns what stops it. */
export function poll(f: () => Promise<void>, everyMs: number, fail: (e: unknown) => void): () => void {
  f().catch(fail);
  const t = setInterval(() => f().catch(fail), everyMs);
  return () => clearInterval(t);
}

/** Sizes the virtual table drawn in `box` to `rows` rows (at least 2, at most `max`), so a short table leaves room below. */
export function fitRows(box: HTMLElement, rows: number, max = 12, rowHeight = 32): void {
  const body = box.querySelector<HTMLElement>('.vtable-body');
  if (body === null) return;
  body.style.height = `${Math.min(Math.max(rows, 2), max) * rowHeight + 2}px`;
  body.style.minHeight = '0';
}

/** A `<dl>` laid out as two columns; `add` appends a fact whose value carries `testId`. */
export function factList(keyWidth = '10rem'): { readonly node: HTMLElement; add(testId: string | undefined, name: string, ...value: (string | Node)[]): void } {
  const node = el('dl');
  Object.assign(node.style, { display: 'grid', gridTemplateColumns: `${keyWidth} 1fr`, gap: '0.3rem 1rem', margin: '0.5rem 0' });
  return {
    node,
    add(testId, name, ...value) {
      const dd = el('dd');
      dd.style.margin = '0';
      if (testId !== undefined) dd.dataset['testid'] = testId;
      dd.append(...value);
      node.append(el('dt', 'muted', name), dd);
    },
  };
}

/** `<li>`s of named checks, each an ok/failed badge, its name and detail. */
export function checkItems(checks: readonly { name: string; ok: boolean; detail?: string }[], testIdPrefix: string): HTMLElement[] {
  return checks.map((c) => {
    const li = el('li');
    li.dataset['testid'] = `${testIdPrefix}${c.name}`;
    li.append(badge(c.ok ? 'ok' : 'failed', c.ok ? 'ok' : 'bad'), ` ${c.name}${c.detail === undefined ? '' : `: ${c.detail}`}`);
    return li;
  });
}
