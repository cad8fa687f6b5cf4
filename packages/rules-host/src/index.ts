/**
 * @module @ferry/rules-host: the rule host (the one rule engine run inside a daemon, gateway and cloud
 * alike), its REST routes, live moves of running jobs between hosts, the error handler every Ferry HTTP
 * server answers its errors with, and the health parts the cloud and the gateway share (probes, the health
 * history, the event-loop watch).
 */
export * from './host.ts';
export * from './routes.ts';
export * from './errors.ts';
export * from './http-errors.ts';
export * from './supervised.ts';
export * from './health/probes.ts';
export * from './health/errors.ts';
export * from './health/eventloop.ts';
export * from './health/history.ts';
export * from './health/history-query.ts';
export * from './health/history-answer.ts';
export * from './health/recorder.ts';
