/**
 * @module The REST rule objects (installation, jobinfo, relocation): types and strict parsers.
 *
 * Field names follow the edge/cloud rule-placement objects as published (including `target_runtime`'s
 * snake case), so hosts can expose them on `/api/install|uninstall|start|stop|move` unchanged.
 */
import { RuleError } from './core/errors.ts';
import type { Plan } from './core/plan.ts';
import { parseSnapshot } from './runtime/snapshot.ts';
import type { JobSnapshot } from './runtime/snapshot.ts';
import { JOB_STATES } from './runtime/state.ts';
import type { JobState } from './runtime/state.ts';
import { findTemplate, JOB_TYPES } from './templates/index.ts';
import { checkTopicFilter, checkTopicName } from './core/topic.ts';
import { childPath, expectArray, expectObject, expectOneOf, expectString, field } from './core/validate.ts';
import type { JsonObject } from './core/validate.ts';

export type InstallationObject = {
  readonly headers: { readonly runtime: string; readonly targetResource: string; readonly jobType: string };
  readonly jobConfig: {
    readonly connectors: { readonly input: string | readonly string[]; readonly output: string };
    readonly jobProps: JsonObject;
  };
};

export type JobInfo = {
  readonly runtime: string;
  readonly jobId: string;
  readonly jobType: string;
  readonly jobStatus: JobState;
  readonly configFileName: string;
};

/** The published relocation object plus what a pure engine needs to move a job: its config and state. */
export type RelocationObject = {
  readonly target_runtime: string;
  readonly targetResource: string;
  readonly jobInfo: JobInfo;
  /** The job's installation object (the published form refers to it by jobInfo.configFileName). */
  readonly installation?: InstallationObject;
  /** State to resume from; absent to start the job afresh on the target. */
  readonly snapshot?: JobSnapshot;
};

function text(object: JsonObject, key: string, path: string): string {
  return expectString(field(object, key), childPath(path, key), { nonEmpty: true });
}

/** Validates an installation object and compiles its template to a plan. */
export function parseInstallation(value: unknown, path = ''): { installation: InstallationObject; plan: Plan } {
  const root = expectObject(value, path, ['headers', 'jobConfig']);
  const headersPath = childPath(path, 'headers');
  const headers = expectObject(field(root, 'headers'), headersPath, ['runtime', 'targetResource', 'jobType']);
  const runtime = text(headers, 'runtime', headersPath);
  const targetResource = text(headers, 'targetResource', headersPath);
  const jobType = text(headers, 'jobType', headersPath);
  const template = findTemplate(jobType);
  if (template === undefined) {
    throw new RuleError(
      'FERRY_RULES_JOB_TYPE_UNKNOWN',
      `${childPath(headersPath, 'jobType')} ${JSON.stringify(jobType)} names no template (known: ${JOB_TYPES.join(', ')})`,
      {
        path: childPath(headersPath, 'jobType'),
      },
    );
  }
  const configPath = childPath(path, 'jobConfig');
  const config = expectObject(field(root, 'jobConfig'), configPath, ['connectors', 'jobProps']);
  const connectorsPath = childPath(configPath, 'connectors');
  const connectors = expectObject(field(config, 'connectors'), connectorsPath, ['input', 'output']);
  const inputPath = childPath(connectorsPath, 'input');
  const rawInput = field(connectors, 'input');
  let inputs: string[];
  if (typeof rawInput === 'string') inputs = [checkTopicFilter(rawInput, inputPath)];
  else {
    inputs = expectArray(rawInput, inputPath).map((topic, index) =>
      checkTopicFilter(expectString(topic, childPath(inputPath, index)), childPath(inputPath, index)),
    );
    if (inputs.length === 0) throw new RuleError('FERRY_RULES_FIELD_VALUE', `${inputPath} must list at least one topic`, { path: inputPath });
  }
  const outputPath = childPath(connectorsPath, 'output');
  const output = checkTopicName(expectString(field(connectors, 'output'), outputPath), outputPath);
  const propsPath = childPath(configPath, 'jobProps');
  const props = expectObject(field(config, 'jobProps'), propsPath, template.required, template.optional);
  const plan = template.compile({ props, path: propsPath, inputs, inputPath, output });
  const installation: InstallationObject = {
    headers: { runtime, targetResource, jobType },
    jobConfig: { connectors: { input: typeof rawInput === 'string' ? (inputs[0] ?? rawInput) : inputs, output }, jobProps: structuredJson(props) },
  };
  return { installation, plan };
}

export function parseJobInfo(value: unknown, path = ''): JobInfo {
  const object = expectObject(value, path, ['runtime', 'jobId', 'jobType', 'jobStatus', 'configFileName']);
  return {
    runtime: text(object, 'runtime', path),
    jobId: text(object, 'jobId', path),
    jobType: text(object, 'jobType', path),
    jobStatus: expectOneOf(field(object, 'jobStatus'), childPath(path, 'jobStatus'), JOB_STATES),
    configFileName: text(object, 'configFileName', path),
  };
}

export function parseRelocation(value: unknown, path = ''): RelocationObject {
  const object = expectObject(value, path, ['target_runtime', 'targetResource', 'jobInfo'], ['installation', 'snapshot']);
  const installationValue = field(object, 'installation');
  const snapshotValue = field(object, 'snapshot');
  return {
    target_runtime: text(object, 'target_runtime', path),
    targetResource: text(object, 'targetResource', path),
    jobInfo: parseJobInfo(field(object, 'jobInfo'), childPath(path, 'jobInfo')),
    ...(installationValue === undefined ? {} : { installation: parseInstallation(installationValue, childPath(path, 'installation')).installation }),
    ...(snapshotValue === undefined ? {} : { snapshot: parseSnapshot(snapshotValue, childPath(path, 'snapshot')) }),
  };
}

/** A detached JSON copy, so a stored object cannot be changed through the caller's reference. */
function structuredJson(value: JsonObject): JsonObject {
  return JSON.parse(JSON.stringify(value)) as JsonObject;
}
