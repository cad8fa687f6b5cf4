/**
 * @module Small DOM helpers every page uses: `html` (htm bound to preact's h: no JSX build step), `mount`,
 * status badges and buttons. A button that changes something names the role it needs: below that role it is
 * not drawn at all (the API refuses the call anyway; docs/operations.md, "Dashboard").
 */
import { render } from 'preact';
// htm's preact entry is htm bound to preact's h (its root entry's CommonJS typings do not type a default import here).
import { html } from 'htm/preact';
import type { Role } from '../page.ts';

export { html };

const RANK: Record<Role, number> = { viewer: 0, operator: 1, admin: 2 };
let current: Role = 'viewer';

/** The shell sets the logged-in role once the session is known; buttons compare against it. */
export function setRole(role: Role): void {
  current = role;
}

/** Whether the logged-in role is at least `role`. */
export const roleAllows = (role: Role): boolean => RANK[current] >= RANK[role];

/** Renders a preact vnode (from `html`) into `el`, replacing what preact drew there before. */
export function mount(el: HTMLElement, vnode: unknown): void {
  render(vnode as Parameters<typeof render>[0], el);
}

/** A small coloured label: kind is ok | warn | bad | info | muted (styles in shell/app.css). */
export function badge(text: string, kind: string): HTMLElement {
  const s = document.createElement('span');
  s.className = `badge badge-${kind}`;
  s.textContent = text;
  return s;
}

/**
 * A button running `onClick`; while its promise runs the button is disabled, and a rejection is shown beside it.
 * With `role` and a session below it, an empty hidden element stands in (no data-testid: tests see no button).
 */
export function button(label: string, onClick: () => void | Promise<void>, opts: { testId?: string; role?: Role } = {}): HTMLElement {
  if (opts.role !== undefined && !roleAllows(opts.role)) {
    const none = document.createElement('span');
    none.hidden = true;
    return none;
  }
  const b = document.createElement('button');
  b.type = 'button';
  b.textContent = label;
  if (opts.testId !== undefined) b.dataset['testid'] = opts.testId;
  b.addEventListener('click', () => {
    b.disabled = true;
    b.title = '';
    b.classList.remove('failed');
    Promise.resolve()
      .then(onClick)
      .catch((e: unknown) => {
        b.classList.add('failed');
        b.title = e instanceof Error ? e.message : String(e);
      })
      .finally(() => {
        b.disabled = false;
      });
  });
  return b;
}

/** An element with a class and text, for pages drawing without preact. */
export function el<K extends keyof HTMLElementTagNameMap>(tag: K, cls?: string, text?: string): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  if (cls !== undefined) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}

/** Wall-clock ms as a short local time (today) or date and time. */
export function when(ms: number | undefined): string {
  if (ms === undefined) return '—';
  const d = new Date(ms);
  return d.toDateString() === new Date().toDateString() ? d.toLocaleTimeString() : d.toLocaleString();
}
