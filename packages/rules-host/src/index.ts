/**
 * @module @ferry/rules-host: the rule host (the one rule engine run inside a daemon, gateway and cloud
 * alike), its REST routes, live moves of running jobs between hosts, and the error handler every Ferry HTTP
 * server answers its errors with.
 */
export * from './host.ts';
export * from './routes.ts';
export * from './errors.ts';
export * from './http-errors.ts';
export * from './supervised.ts';
export * from './probes.ts';
