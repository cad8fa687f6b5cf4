/**
 * @module The page table: every URL of the cloud's dashboard (PAGE_PATHS) and the gateway's (GATEWAY_PAGE_PATHS),
 * each with the module that draws it. The shell (shell/app.ts) builds its nav and router from this; the server
 * (serve.ts) answers the same URLs with the HTML shell.
 */
import { GATEWAY_PAGE_PATHS, PAGE_PATHS, type Page } from '../page.ts';
import { page as alarms } from './alarms.ts';
import { page as commands } from './commands.ts';
import { page as devices } from './devices.ts';
import { page as functions } from './functions.ts';
import { page as gatewayJobs } from './gateway-jobs.ts';
import { page as gatewaySources } from './gateway-sources.ts';
import { page as gatewayStatus } from './gateway-status.ts';
import { page as health } from './health.ts';
import { page as rules } from './rules.ts';
import { page as sos } from './sos.ts';
import { page as streams } from './streams.ts';

export type DashboardKind = 'cloud' | 'gateway';

/** In nav order. */
export const CLOUD_PAGES: readonly Page[] = [devices, streams, rules, sos, functions, commands, alarms, health];
export const GATEWAY_PAGES: readonly Page[] = [gatewaySources, gatewayJobs, gatewayStatus];

export const pagesOf = (kind: DashboardKind): readonly Page[] => (kind === 'gateway' ? GATEWAY_PAGES : CLOUD_PAGES);

/** The first page of each kind: where `/` and a login without `next` go. */
export const HOME: Record<DashboardKind, string> = { cloud: PAGE_PATHS[0], gateway: GATEWAY_PAGE_PATHS[0] };
