/** @module @ferry/rules-api: hosting the rule engine in a daemon, and its REST API (gateway and cloud alike). */
export * from './errors.ts';
export * from './host.ts';
export * from './routes.ts';
