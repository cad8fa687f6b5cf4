/**
 * @module The one table from jobType to template; adding a template is adding a file and a row here.
 */
import { aggregation } from './aggregation.ts';
import { alarm } from './alarm.ts';
import { join } from './join.ts';
import type { Template } from './props.ts';
import { singleFilter } from './single-filter.ts';
import { sql } from './sql.ts';

export const TEMPLATES: Readonly<Record<string, Template>> = {
  [singleFilter.jobType]: singleFilter,
  [aggregation.jobType]: aggregation,
  [join.jobType]: join,
  [sql.jobType]: sql,
  [alarm.jobType]: alarm,
};

export const JOB_TYPES: readonly string[] = Object.keys(TEMPLATES);

export function findTemplate(jobType: string): Template | undefined {
  return Object.hasOwn(TEMPLATES, jobType) ? TEMPLATES[jobType] : undefined;
}
