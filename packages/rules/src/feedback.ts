/**
 * @module Feedback loops between rules. A host publishes each output and re-inputs it to the jobs whose
 * filters match its topic (pipelines compose through topics), so a rule whose output matches its own input,
 * or a chain of rules that leads back to it, turns one record into an unbounded cascade. Such a rule is
 * refused at install; only loops inside one engine can be seen here (a loop through another runtime is bounded
 * by the host's re-input depth).
 */
import type { Plan } from './core/plan.ts';
import { topicMatches } from './core/topic.ts';

export interface PlannedJob {
  readonly jobId: string;
  readonly plan: Plan;
}

/** Whether `from`'s output feeds `to` (one of its input filters matches the output topic). */
const feeds = (from: Plan, to: Plan): boolean => to.sources.some((source) => topicMatches(source.topic, from.sink.topic));

/**
 * The loop a new plan would close: [] when it feeds itself directly, the job ids it passes through when it
 * feeds itself via installed jobs, null when its outputs never come back to it.
 */
export function loopThrough(plan: Plan, installed: readonly PlannedJob[]): string[] | null {
  if (feeds(plan, plan)) return [];
  // Depth-first search from the new plan's consumers back to the new plan; the graph is at most maxJobs large.
  const seen = new Set<string>();
  const visit = (job: PlannedJob, path: string[]): string[] | null => {
    if (seen.has(job.jobId)) return null;
    seen.add(job.jobId);
    const here = [...path, job.jobId];
    if (feeds(job.plan, plan)) return here;
    for (const next of installed)
      if (feeds(job.plan, next.plan)) {
        const found = visit(next, here);
        if (found !== null) return found;
      }
    return null;
  };
  for (const first of installed)
    if (feeds(plan, first.plan)) {
      const found = visit(first, []);
      if (found !== null) return found;
    }
  return null;
}
