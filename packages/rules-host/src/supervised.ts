/**
 * @module The jobs of a rule host as components of a supervisor (@ferry/base; docs/operations.md, "Automatic
 * recovery"), for the gateway and the cloud alike. A job is failing while it stopped on a failure (an error
 * streak or a cap, docs/rules.md "Lifecycle"); restarting it starts it again, which clears the failure and
 * grants a fresh error budget. A job stopped by an operator has no failure and is left alone.
 */
import type { Component } from '@ferry/base';
import type { RulesHost } from './host.ts';

export function ruleJobComponents(rules: RulesHost): Component[] {
  return rules.engine.list().map((j) => ({
    name: `rule:${j.jobId}`,
    check: () => {
      const f = rules.engine.status(j.jobId).failure;
      return f === null ? undefined : `${f.code}: ${f.message}`;
    },
    restart: () => {
      rules.engine.start(j.jobId);
    },
  }));
}
