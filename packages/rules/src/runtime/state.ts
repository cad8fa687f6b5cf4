/**
 * @module The job lifecycle as one transition table: INSTALLED -> RUNNING <-> STOPPED -> UNINSTALLED.
 *
 * States are the jobStatus values of the jobinfo object, so the wire and the engine share one vocabulary.
 * A job that fails (too many consecutive errors) goes to STOPPED with a failure reason rather than to a
 * fifth state, keeping jobinfo's enum as published.
 */
import { RuleError } from '../core/errors.ts';

export type JobState = 'INSTALLED' | 'RUNNING' | 'STOPPED' | 'UNINSTALLED';
export const JOB_STATES: readonly JobState[] = ['INSTALLED', 'RUNNING', 'STOPPED', 'UNINSTALLED'];
export type LifecycleCommand = 'start' | 'stop' | 'uninstall';

/** Every allowed move; anything absent is an invalid transition. Uninstalling a running job needs a stop first. */
const TRANSITIONS: Readonly<Record<JobState, Partial<Record<LifecycleCommand, JobState>>>> = {
  INSTALLED: { start: 'RUNNING', uninstall: 'UNINSTALLED' },
  RUNNING: { stop: 'STOPPED' },
  STOPPED: { start: 'RUNNING', uninstall: 'UNINSTALLED' },
  UNINSTALLED: {},
};

export function canTransition(state: JobState, command: LifecycleCommand): boolean {
  return TRANSITIONS[state][command] !== undefined;
}

/** The state after `command`, or FERRY_RULES_INVALID_TRANSITION. */
export function transition(state: JobState, command: LifecycleCommand, jobId = 'job'): JobState {
  const next = TRANSITIONS[state][command];
  if (next === undefined) {
    const allowed = Object.keys(TRANSITIONS[state]);
    const hint = allowed.length === 0 ? 'no command is allowed' : `allowed: ${allowed.join(', ')}`;
    throw new RuleError('FERRY_RULES_INVALID_TRANSITION', `cannot ${command} ${jobId} while ${state} (${hint})`);
  }
  return next;
}
