/**
 * @module A virtualised table (TanStack virtual-core): only the rows in view (plus a few) are in the DOM, so
 * 10 000 devices scroll smoothly. Rows are fixed height; each row carries `data-testid="row-<key>"` unless the
 * page's cell content sets its own, and the row element gets `data-key`.
 */
import { elementScroll, observeElementOffset, observeElementRect, Virtualizer } from '@tanstack/virtual-core';

export interface Column<R> {
  readonly key: string;
  readonly title: string;
  /** A CSS grid track, e.g. '8rem' or '2fr'; default '1fr'. */
  readonly width?: string;
  cell(r: R): string | Node;
}

export interface VirtualTableOptions<R> {
  readonly columns: Column<R>[];
  /** Row height in CSS pixels; default 32. */
  readonly rowHeight?: number;
  rowKey(r: R): string;
  onRow?(r: R): void;
  /** The data-testid of each row: default `row-<key>`. */
  rowTestId?(r: R): string;
}

export interface VirtualTable<R> {
  setRows(rows: R[]): void;
  destroy(): void;
}

export function virtualTable<R>(el: HTMLElement, opts: VirtualTableOptions<R>): VirtualTable<R> {
  const rowHeight = opts.rowHeight ?? 32;
  const grid = opts.columns.map((c) => c.width ?? '1fr').join(' ');
  const wrap = document.createElement('div');
  wrap.className = 'vtable';
  const head = document.createElement('div');
  head.className = 'vtable-head vtable-row';
  head.style.gridTemplateColumns = grid;
  for (const c of opts.columns) {
    const th = document.createElement('div');
    th.textContent = c.title;
    head.append(th);
  }
  const scroller = document.createElement('div');
  scroller.className = 'vtable-body';
  scroller.dataset['testid'] = 'vtable-body';
  const inner = document.createElement('div');
  inner.style.position = 'relative';
  scroller.append(inner);
  wrap.append(head, scroller);
  el.append(wrap);

  let rows: R[] = [];
  const draw = (): void => {
    inner.style.height = `${v.getTotalSize()}px`;
    const frag = document.createDocumentFragment();
    for (const item of v.getVirtualItems()) {
      const r = rows[item.index];
      if (r === undefined) continue;
      const row = document.createElement('div');
      row.className = 'vtable-row';
      row.style.gridTemplateColumns = grid;
      row.style.transform = `translateY(${item.start}px)`;
      row.style.height = `${rowHeight}px`;
      row.dataset['key'] = opts.rowKey(r);
      row.dataset['testid'] = opts.rowTestId?.(r) ?? `row-${opts.rowKey(r)}`;
      for (const c of opts.columns) {
        const td = document.createElement('div');
        td.append(c.cell(r));
        row.append(td);
      }
      if (opts.onRow !== undefined) {
        row.classList.add('clickable');
        row.tabIndex = 0;
        const go = (): void => opts.onRow?.(r);
        row.addEventListener('click', go);
        row.addEventListener('keydown', (e) => {
          if (e.key === 'Enter') go();
        });
      }
      frag.append(row);
    }
    inner.replaceChildren(frag);
  };
  const v = new Virtualizer<HTMLDivElement, HTMLDivElement>({
    count: 0,
    getScrollElement: () => scroller,
    estimateSize: () => rowHeight,
    overscan: 8,
    scrollToFn: elementScroll,
    observeElementRect,
    observeElementOffset,
    getItemKey: (i) => (rows[i] === undefined ? i : opts.rowKey(rows[i]!)),
    onChange: () => draw(),
  });
  const unmount = v._didMount();
  v._willUpdate();
  return {
    setRows(next) {
      rows = next;
      v.setOptions({ ...v.options, count: rows.length });
      v._willUpdate();
      v.measure();
      draw();
    },
    destroy() {
      unmount();
      wrap.remove();
    },
  };
}
