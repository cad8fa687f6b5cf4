/**
 * @module Installation / jobinfo / relocation parsing: examples per template, errors with field paths, and
 * properties over generated objects (valid ones parse; each kind of mutation fails at the mutated path).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RuleError } from './core/errors.ts';
import type { RuleErrorCode } from './core/errors.ts';
import { parseInstallation, parseJobInfo, parseRelocation } from './objects.ts';

type Json = Record<string, unknown>;

function installation(jobType: string, jobProps: Json, input: unknown = 'sensors/+/temp', output = 'alerts/temp'): Json {
  return { headers: { runtime: 'edge', targetResource: 'room-1', jobType }, jobConfig: { connectors: { input, output }, jobProps } };
}

function failure(value: unknown, parse: (value: unknown) => unknown = parseInstallation): RuleError {
  try {
    parse(value);
  } catch (error) {
    if (error instanceof RuleError) return error;
    throw error;
  }
  throw new Error('expected a RuleError');
}

describe('installation objects per template', () => {
  it('single-filter compiles to a stream plan with the comparison', () => {
    const { plan, installation: parsed } = parseInstallation(installation('single-filter', { condition: 'gt', threshold: 30, fieldName: 'temp' }));
    expect(plan).toEqual({
      kind: 'stream',
      sources: [{ topic: 'sensors/+/temp', alias: null }],
      filter: { kind: 'compare', op: 'gt', left: { kind: 'field', ref: { input: 0, path: ['temp'] } }, right: { kind: 'literal', value: 30 } },
      project: { kind: 'all' },
      sink: { topic: 'alerts/temp' },
    });
    expect(parsed.headers.jobType).toBe('single-filter');
  });

  it('single-filter reads fieldJsonPath and eq against any literal', () => {
    const { plan } = parseInstallation(installation('single-filter', { condition: 'eq', threshold: null, fieldJsonPath: "$.status['door open']" }));
    expect(plan.kind === 'stream' && plan.filter).toMatchObject({ op: 'eq', left: { ref: { path: ['status', 'door open'] } }, right: { value: null } });
  });

  it('aggregation compiles window, group and output name', () => {
    const { plan } = parseInstallation(
      installation('aggregation', {
        function: 'avg',
        fieldName: 'temp',
        window: { type: 'sliding', size: 60_000, slide: 10_000, unit: 'ms' },
        groupByJsonPath: '$.meta.room',
        condition: 'lt',
        threshold: 100,
        outputField: 'avgTemp',
      }),
    );
    expect(plan).toMatchObject({
      kind: 'aggregate',
      window: { type: 'sliding', unit: 'ms', size: 60_000, slide: 10_000 },
      groupBy: { input: 0, path: ['meta', 'room'] },
      outputs: [
        { kind: 'group', as: 'room' },
        { kind: 'aggregate', fn: 'avg', as: 'avgTemp' },
      ],
      filter: { op: 'lt' },
    });
  });

  it('aggregation count needs no field and defaults the output name to the function', () => {
    const { plan } = parseInstallation(installation('aggregation', { function: 'count', window: { type: 'tumbling', size: 5, unit: 'count' } }));
    expect(plan).toMatchObject({ kind: 'aggregate', outputs: [{ kind: 'aggregate', fn: 'count', ref: null, as: 'count' }], window: { slide: 5 } });
  });

  it('join needs exactly two inputs', () => {
    const { plan } = parseInstallation(installation('join', { fieldName: 'id', windowMs: 5000 }, ['s1', 's2']));
    expect(plan).toMatchObject({ kind: 'join', withinMs: 5000, on: { left: { input: 0, path: ['id'] }, right: { input: 1, path: ['id'] } } });
    expect(failure(installation('join', { fieldName: 'id', windowMs: 5000 }, 's1'))).toMatchObject({
      code: 'FERRY_RULES_FIELD_VALUE',
      path: 'jobConfig.connectors.input',
    });
  });

  it('sql compiles the query and checks the connectors agree with it', () => {
    const { plan } = parseInstallation(installation('sql', { query: 'SELECT * FROM sensors/+/temp WHERE temp > 30' }));
    expect(plan.kind).toBe('stream');
    expect(failure(installation('sql', { query: 'SELECT * FROM other WHERE temp > 30' }))).toMatchObject({
      code: 'FERRY_RULES_FIELD_VALUE',
      path: 'jobConfig.connectors.input',
    });
  });

  it('sql errors keep the text position and add the field path', () => {
    const error = failure(installation('sql', { query: 'SELECT *\nFROM sensors/+/temp WHERE temp >' }));
    expect(error).toMatchObject({ code: 'FERRY_RULES_SQL_SYNTAX', path: 'jobConfig.jobProps.query', position: { line: 2, column: 33 } });
  });

  it('stores a detached copy of the installation', () => {
    const source = installation('single-filter', { condition: 'gt', threshold: 1, fieldName: 't' });
    const parsed = parseInstallation(source).installation;
    (source['jobConfig'] as Json)['jobProps'] = {};
    expect(parsed.jobConfig.jobProps).toEqual({ condition: 'gt', threshold: 1, fieldName: 't' });
  });
});

describe('installation errors name the field and the reason', () => {
  const filter = { condition: 'gt', threshold: 30, fieldName: 'temp' };
  it.each<[string, Json, RuleErrorCode, string]>([
    [
      'threshold of the wrong type',
      installation('single-filter', { ...filter, threshold: { t: 1 }, condition: 'eq' }),
      'FERRY_RULES_FIELD_TYPE',
      'jobConfig.jobProps.threshold',
    ],
    ['ordering against a boolean', installation('single-filter', { ...filter, threshold: true }), 'FERRY_RULES_FIELD_TYPE', 'jobConfig.jobProps.threshold'],
    ['missing threshold', installation('single-filter', { condition: 'gt', fieldName: 'temp' }), 'FERRY_RULES_FIELD_REQUIRED', 'jobConfig.jobProps.threshold'],
    ['unknown condition', installation('single-filter', { ...filter, condition: 'gte' }), 'FERRY_RULES_FIELD_VALUE', 'jobConfig.jobProps.condition'],
    ['typo in a prop', installation('single-filter', { ...filter, treshold: 3 }), 'FERRY_RULES_FIELD_UNKNOWN', 'jobConfig.jobProps.treshold'],
    ['no field', installation('single-filter', { condition: 'gt', threshold: 1 }), 'FERRY_RULES_FIELD_REQUIRED', 'jobConfig.jobProps.fieldName'],
    ['both field forms', installation('single-filter', { ...filter, fieldJsonPath: '$.t' }), 'FERRY_RULES_FIELD_VALUE', 'jobConfig.jobProps.fieldJsonPath'],
    [
      'bad JSON path',
      installation('single-filter', { condition: 'gt', threshold: 1, fieldJsonPath: '$..t' }),
      'FERRY_RULES_JSON_PATH',
      'jobConfig.jobProps.fieldJsonPath',
    ],
    [
      'root JSON path',
      installation('single-filter', { condition: 'gt', threshold: 1, fieldJsonPath: '$' }),
      'FERRY_RULES_FIELD_VALUE',
      'jobConfig.jobProps.fieldJsonPath',
    ],
    ['unknown jobType', installation('threshold', filter), 'FERRY_RULES_JOB_TYPE_UNKNOWN', 'headers.jobType'],
    ['wildcard output', installation('single-filter', filter, 'in', 'alerts/#'), 'FERRY_RULES_TOPIC_INVALID', 'jobConfig.connectors.output'],
    ['bad input filter', installation('single-filter', filter, ['ok', 'a/#/b']), 'FERRY_RULES_TOPIC_INVALID', 'jobConfig.connectors.input[1]'],
    ['input of numbers', installation('single-filter', filter, ['ok', 7]), 'FERRY_RULES_FIELD_TYPE', 'jobConfig.connectors.input[1]'],
    ['empty input list', installation('single-filter', filter, []), 'FERRY_RULES_FIELD_VALUE', 'jobConfig.connectors.input'],
    ['repeated input', installation('single-filter', filter, ['a', 'a']), 'FERRY_RULES_FIELD_VALUE', 'jobConfig.connectors.input[1]'],
    [
      'zero window',
      installation('aggregation', { function: 'sum', fieldName: 't', window: { type: 'tumbling', size: 0, unit: 'ms' } }),
      'FERRY_RULES_FIELD_VALUE',
      'jobConfig.jobProps.window.size',
    ],
    [
      'fractional window',
      installation('aggregation', { function: 'sum', fieldName: 't', window: { type: 'tumbling', size: 1.5, unit: 'ms' } }),
      'FERRY_RULES_FIELD_VALUE',
      'jobConfig.jobProps.window.size',
    ],
    [
      'sliding without slide',
      installation('aggregation', { function: 'sum', fieldName: 't', window: { type: 'sliding', size: 10, unit: 'count' } }),
      'FERRY_RULES_FIELD_VALUE',
      'jobConfig.jobProps.window.slide',
    ],
    [
      'slide above size',
      installation('aggregation', { function: 'sum', fieldName: 't', window: { type: 'sliding', size: 10, slide: 11, unit: 'count' } }),
      'FERRY_RULES_FIELD_VALUE',
      'jobConfig.jobProps.window.slide',
    ],
    [
      'too many windows per record',
      installation('aggregation', { function: 'sum', fieldName: 't', window: { type: 'sliding', size: 100_000, slide: 10, unit: 'ms' } }),
      'FERRY_RULES_FIELD_VALUE',
      'jobConfig.jobProps.window.slide',
    ],
    [
      'slide on tumbling',
      installation('aggregation', { function: 'sum', fieldName: 't', window: { type: 'tumbling', size: 10, slide: 5, unit: 'ms' } }),
      'FERRY_RULES_FIELD_VALUE',
      'jobConfig.jobProps.window.slide',
    ],
    [
      'window unit',
      installation('aggregation', { function: 'sum', fieldName: 't', window: { type: 'tumbling', size: 10, unit: 's' } }),
      'FERRY_RULES_FIELD_VALUE',
      'jobConfig.jobProps.window.unit',
    ],
    [
      'sum without field',
      installation('aggregation', { function: 'sum', window: { type: 'tumbling', size: 10, unit: 'ms' } }),
      'FERRY_RULES_FIELD_REQUIRED',
      'jobConfig.jobProps.fieldName',
    ],
    [
      'reserved output name',
      installation('aggregation', { function: 'sum', fieldName: 't', outputField: 'windowEnd', window: { type: 'tumbling', size: 10, unit: 'ms' } }),
      'FERRY_RULES_FIELD_VALUE',
      'jobConfig.jobProps.outputField',
    ],
    ['join window missing', installation('join', { fieldName: 'id' }, ['a', 'b']), 'FERRY_RULES_FIELD_REQUIRED', 'jobConfig.jobProps.windowMs'],
    [
      'join condition',
      installation('join', { fieldName: 'id', windowMs: 5, condition: 'gt' }, ['a', 'b']),
      'FERRY_RULES_FIELD_UNKNOWN',
      'jobConfig.jobProps.condition',
    ],
    [
      'empty runtime',
      { ...installation('join', {}), headers: { runtime: '', targetResource: 'r', jobType: 'join' } },
      'FERRY_RULES_FIELD_VALUE',
      'headers.runtime',
    ],
  ])('%s', (_name, value, code, path) => {
    const error = failure(value);
    expect(error.code).toBe(code);
    expect(error.path).toBe(path);
    expect(error.message.length).toBeGreaterThan(10);
  });

  it('rejects non-objects at the root', () => {
    expect(failure(null)).toMatchObject({ code: 'FERRY_RULES_FIELD_TYPE', path: '' });
    expect(failure([])).toMatchObject({ code: 'FERRY_RULES_FIELD_TYPE' });
  });

  it('quotes odd keys in paths', () => {
    expect(failure({ ...installation('join', {}), 'a b': 1 })).toMatchObject({ code: 'FERRY_RULES_FIELD_UNKNOWN', path: '["a b"]' });
  });
});

describe('jobinfo and relocation objects', () => {
  const jobInfo = { runtime: 'edge', jobId: 'edge-1', jobType: 'join', jobStatus: 'RUNNING', configFileName: 'edge-1.json' };

  it('parses jobinfo and rejects unknown statuses', () => {
    expect(parseJobInfo(jobInfo)).toEqual(jobInfo);
    expect(failure({ ...jobInfo, jobStatus: 'FAILED' }, parseJobInfo)).toMatchObject({ code: 'FERRY_RULES_FIELD_VALUE', path: 'jobStatus' });
  });

  it('parses a relocation, nested paths included', () => {
    expect(parseRelocation({ target_runtime: 'cloud', targetResource: 'r', jobInfo })).toEqual({ target_runtime: 'cloud', targetResource: 'r', jobInfo });
    expect(failure({ target_runtime: 'cloud', targetResource: 'r', jobInfo: { ...jobInfo, jobId: 3 } }, parseRelocation)).toMatchObject({
      code: 'FERRY_RULES_FIELD_TYPE',
      path: 'jobInfo.jobId',
    });
    expect(failure({ target_runtime: 'cloud', targetResource: 'r', jobInfo, snapshot: { format: 'x' } }, parseRelocation)).toMatchObject({
      code: 'FERRY_RULES_SNAPSHOT_INVALID',
    });
    expect(
      failure(
        { target_runtime: 'cloud', targetResource: 'r', jobInfo, installation: installation('join', { fieldName: 'id', windowMs: 0 }, ['a', 'b']) },
        parseRelocation,
      ),
    ).toMatchObject({ path: 'installation.jobConfig.jobProps.windowMs' });
  });
});

// ---------------------------------------------------------------------------------------------------
// Properties over generated installation objects.

const name = fc.stringMatching(/^[a-z][a-z0-9_]{0,7}$/);
const topic = fc.array(fc.oneof(name, fc.constant('+')), { minLength: 1, maxLength: 3 }).map((levels) => levels.join('/'));
const field = fc.oneof(
  name.map((value) => ({ fieldName: value })),
  fc.array(name, { minLength: 1, maxLength: 3 }).map((names) => ({ fieldJsonPath: `$.${names.join('.')}` })),
);
const threshold = fc.oneof(fc.integer({ min: -1000, max: 1000 }), fc.double({ noNaN: true, noDefaultInfinity: true }));
const condition = fc.constantFrom('gt', 'ge', 'lt', 'le', 'eq', 'ne');
const window = fc.oneof(
  fc.record({ type: fc.constant('tumbling'), size: fc.integer({ min: 1, max: 10_000 }), unit: fc.constantFrom('ms', 'count') }),
  fc
    .tuple(fc.integer({ min: 1, max: 1000 }), fc.integer({ min: 1, max: 10 }), fc.constantFrom('ms', 'count'))
    .map(([slide, factor, unit]) => ({ type: 'sliding', size: slide * factor, slide, unit })),
);

const validInstallation: fc.Arbitrary<Json> = fc.oneof(
  fc.tuple(field, condition, threshold, topic).map(([f, op, t, input]) => installation('single-filter', { ...f, condition: op, threshold: t }, input)),
  fc
    .tuple(
      field,
      fc.constantFrom('sum', 'avg', 'min', 'max', 'count'),
      window,
      fc.option(name, { nil: undefined }),
      fc.array(topic, { minLength: 1, maxLength: 3 }),
    )
    .filter(([, , , , inputs]) => new Set(inputs).size === inputs.length)
    .map(([f, fn, w, groupBy, inputs]) =>
      installation('aggregation', { ...f, function: fn, window: w, ...(groupBy === undefined ? {} : { groupBy, outputField: `${fn}_out` }) }, inputs),
    ),
  fc.tuple(field, fc.integer({ min: 1, max: 60_000 }), topic, topic).map(([f, ms, a, b]) => installation('join', { ...f, windowMs: ms }, [a, b])),
);

/** Every object node of a value with its path, as the parser would name it. */
function objectNodes(value: unknown, path = ''): { path: string; node: Json }[] {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return [];
  const node = value as Json;
  return [{ path, node }, ...Object.entries(node).flatMap(([key, child]) => objectNodes(child, path === '' ? key : `${path}.${key}`))];
}

function clone<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}

describe('properties of installation parsing', () => {
  it('every generated valid object parses, to the plan kind of its template', () => {
    fc.assert(
      fc.property(validInstallation, (value) => {
        const { plan } = parseInstallation(value);
        const jobType = (value['headers'] as Json)['jobType'];
        expect(plan.kind).toBe({ 'single-filter': 'stream', aggregation: 'aggregate', join: 'join' }[String(jobType)]);
      }),
    );
  });

  it('an unknown key added to any object fails at exactly that path', () => {
    fc.assert(
      fc.property(validInstallation, fc.nat(), (value, pick) => {
        const copy = clone(value);
        const nodes = objectNodes(copy);
        const target = nodes[pick % nodes.length];
        if (target === undefined) return;
        target.node['zz_unknown'] = 1;
        const error = failure(copy);
        expect(error.code).toBe('FERRY_RULES_FIELD_UNKNOWN');
        expect(error.path).toBe(target.path === '' ? 'zz_unknown' : `${target.path}.zz_unknown`);
      }),
    );
  });

  it('removing a required header or connector fails as required at its path', () => {
    const required = [
      'headers.runtime',
      'headers.targetResource',
      'headers.jobType',
      'jobConfig.connectors.input',
      'jobConfig.connectors.output',
      'jobConfig.jobProps',
    ];
    fc.assert(
      fc.property(validInstallation, fc.constantFrom(...required), (value, path) => {
        const copy = clone(value);
        const keys = path.split('.');
        const last = keys.pop() ?? '';
        const parent = keys.reduce<Json>((node, key) => node[key] as Json, copy);
        delete parent[last];
        const error = failure(copy);
        expect(error.code).toBe('FERRY_RULES_FIELD_REQUIRED');
        expect(error.path).toBe(path);
      }),
    );
  });

  it('replacing a string header by a number fails as a type error at its path', () => {
    fc.assert(
      fc.property(validInstallation, fc.constantFrom('runtime', 'targetResource', 'jobType'), fc.integer(), (value, key, replacement) => {
        const copy = clone(value);
        (copy['headers'] as Json)[key] = replacement;
        expect(failure(copy)).toMatchObject({ code: 'FERRY_RULES_FIELD_TYPE', path: `headers.${key}` });
      }),
    );
  });

  it('arbitrary values never crash the parser: they parse or throw a RuleError', () => {
    const loose = fc.oneof(
      fc.anything(),
      validInstallation.chain((value) => fc.jsonValue().map((noise) => ({ ...value, jobConfig: { ...(value['jobConfig'] as Json), jobProps: noise } }))),
    );
    fc.assert(
      fc.property(loose, (value) => {
        try {
          parseInstallation(value);
        } catch (error) {
          expect(error).toBeInstanceOf(RuleError);
        }
      }),
    );
  });
});
