/**
 * @module What a dashboard page is: the shell (src/shell/app.ts) routes each URL in PAGES to one page module, which
 * draws into the element it is given and returns what stops it (timers, live streams). docs/operations.md,
 * "Dashboard", lists the pages.
 */

export type Role = 'viewer' | 'operator' | 'admin';

/** The logged-in operator, as GET /api/session answers. */
export interface Session {
  readonly role: Role;
  /** Undefined for the cloud's admin or a global token. */
  readonly owner?: string;
  readonly id: string;
}

export interface PageContext {
  readonly session: Session;
  /** JSON over fetch with the session cookie; rejects with an Error whose message is the API's error code and message. */
  api<T>(path: string, init?: { method?: string; body?: unknown }): Promise<T>;
  /** Server-sent events at `path`; `onData` gets each event's parsed data. Returns what closes the stream. */
  live(path: string, onData: (data: unknown, event: string) => void): () => void;
  /** Goes to another page (history.pushState), e.g. navigate('/devices?id=b1'). */
  navigate(url: string): void;
  /** Whether the session's role is at least `role` (buttons that change things are hidden below operator). */
  may(role: Role): boolean;
}

export interface Page {
  /** The URL path, one of PAGE_PATHS. */
  readonly path: string;
  readonly title: string;
  /** Draws into `root`; returns a function that stops what it started. */
  render(root: HTMLElement, ctx: PageContext): (() => void) | undefined;
}

/** Every page's URL: the server answers each with the dashboard's HTML, so links and bookmarks work. */
export const PAGE_PATHS = ['/devices', '/streams', '/rules', '/sos', '/functions', '/commands', '/alarms', '/health'] as const;
/** The gateway's smaller dashboard. */
export const GATEWAY_PAGE_PATHS = ['/sources', '/jobs', '/status'] as const;
