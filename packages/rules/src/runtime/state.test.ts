/**
 * @module The lifecycle table, checked exhaustively: every (state, command) pair either moves or fails typed.
 */
import { describe, expect, it } from 'vitest';
import { RuleError } from '../core/errors.ts';
import { canTransition, JOB_STATES, transition } from './state.ts';
import type { JobState, LifecycleCommand } from './state.ts';

const EXPECTED: Record<JobState, Partial<Record<LifecycleCommand, JobState>>> = {
  INSTALLED: { start: 'RUNNING', uninstall: 'UNINSTALLED' },
  RUNNING: { stop: 'STOPPED' },
  STOPPED: { start: 'RUNNING', uninstall: 'UNINSTALLED' },
  UNINSTALLED: {},
};

describe('job state machine', () => {
  for (const state of JOB_STATES) {
    for (const command of ['start', 'stop', 'uninstall'] as const) {
      const next = EXPECTED[state][command];
      it(`${command} while ${state} -> ${next ?? 'FERRY_RULES_INVALID_TRANSITION'}`, () => {
        expect(canTransition(state, command)).toBe(next !== undefined);
        if (next !== undefined) {
          expect(transition(state, command)).toBe(next);
        } else {
          let caught: unknown;
          try {
            transition(state, command, 'edge-7');
          } catch (error) {
            caught = error;
          }
          expect(caught).toBeInstanceOf(RuleError);
          expect(caught).toMatchObject({ code: 'FERRY_RULES_INVALID_TRANSITION', num: 3201 });
          expect((caught as RuleError).message).toContain(`cannot ${command} edge-7 while ${state}`);
        }
      });
    }
  }
});
