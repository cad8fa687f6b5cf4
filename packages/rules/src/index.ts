/**
 * @module Public API of @ferry/rules: rule objects, templates, SQL form, plan, jobs and the engine.
 */
export { RULE_ERRORS, RuleError, isRuleError } from './core/errors.ts';
export type { RuleErrorCode, RuleErrorDetails, SourcePosition } from './core/errors.ts';

export { parseInstallation, parseJobInfo, parseRelocation } from './objects.ts';
export type { InstallationObject, JobInfo, RelocationObject } from './objects.ts';

export { JOB_TYPES, TEMPLATES, findTemplate } from './templates/index.ts';
export type { Template, TemplateInput } from './templates/props.ts';

export { compileSql } from './sql/compile.ts';
export { parseSql, MAX_SQL_LENGTH } from './sql/parser.ts';
export { printSql } from './sql/print.ts';
export type { SqlQuery } from './sql/ast.ts';

export { AGG_FNS, COMPARE_OPS, LIMITS, WINDOW_FIELDS, checkPlan, planKey } from './core/plan.ts';
export type {
  AlarmPlan,
  AggFn,
  AggOutput,
  AggregatePlan,
  CompareOp,
  FieldRef,
  JoinPlan,
  Literal,
  Operand,
  Plan,
  Predicate,
  Projection,
  Sink,
  Source,
  StreamPlan,
  WindowSpec,
} from './core/plan.ts';

export { formatJsonPath, parseJsonPath, readPath, MISSING } from './core/json-path.ts';
export type { FieldPath, PathSegment } from './core/json-path.ts';
export { checkTopicFilter, checkTopicName, topicMatches } from './core/topic.ts';

export { RuleJob, DEFAULT_DEDUPE_WINDOW, DEFAULT_ERROR_LIMIT } from './runtime/job.ts';
export type { JobOptions, JobStatus, OutputRecord } from './runtime/job.ts';
export { JOB_STATES, canTransition, transition } from './runtime/state.ts';
export type { JobState, LifecycleCommand } from './runtime/state.ts';
export { SNAPSHOT_FORMAT, parseSnapshot } from './runtime/snapshot.ts';
export type { Counters, DropCounters, ErrorInfo, JobSnapshot, Watermark } from './runtime/snapshot.ts';

export { RuleEngine } from './engine.ts';
export { RULE_LIMITS, type RuleLimits } from './core/limits.ts';
export { loopThrough, type PlannedJob } from './feedback.ts';
export type { EngineOptions, JobReport } from './engine.ts';

export { SEVERITIES } from './core/alarm-types.ts';
export { ALARM_OPS, describeCondition } from './core/alarm-spec.ts';
export type { AlarmSpec } from './core/alarm-spec.ts';
export { ALARM_LIMITS } from './core/limits.ts';
export type { AlarmCondition, AlarmRuleProps, AlarmTransition, MissingData, Severity } from './core/alarm-types.ts';
