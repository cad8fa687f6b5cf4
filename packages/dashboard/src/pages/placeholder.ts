/** @module A page not built yet: its URL, title and nav entry exist, so links to it work from day one. */
import type { Page } from '../page.ts';

export function placeholder(path: string, title: string): Page {
  return {
    path,
    title,
    render(root) {
      const p = document.createElement('p');
      p.className = 'muted';
      p.dataset['testid'] = 'page-placeholder';
      p.textContent = `${title}: not built yet.`;
      root.replaceChildren(p);
      return undefined;
    },
  };
}
