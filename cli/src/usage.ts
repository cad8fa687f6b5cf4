/**
 * @module The error for a command called wrongly (as opposed to data that was refused). Commands throw it;
 * main.ts prints its message and exits 2, as for commander's own usage errors.
 */
export class UsageError extends Error {}
