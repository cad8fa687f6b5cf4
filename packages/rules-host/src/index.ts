/**
 * @module @ferry/rules-host: the rule host (the one rule engine run inside a daemon, gateway and cloud
 * alike), its REST routes, and live moves of running jobs between hosts.
 */
export * from './host.ts';
export * from './routes.ts';
export * from './errors.ts';
