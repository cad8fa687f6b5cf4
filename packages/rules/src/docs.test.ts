/**
 * @module docs/rules.md stays true: every JSON example parses as the object it shows, every SQL example compiles.
 */
import { describe, expect, it } from 'vitest';
import rulesDoc from '../../../docs/rules.md?raw';
import { RuleEngine } from './engine.ts';
import { parseInstallation, parseJobInfo, parseRelocation } from './objects.ts';
import { compileSql } from './sql/compile.ts';

function blocks(language: string): string[] {
  return [...rulesDoc.matchAll(new RegExp(`\`\`\`${language}\\n([\\s\\S]*?)\`\`\``, 'g'))].map((match) => match[1] ?? '');
}

describe('docs/rules.md examples', () => {
  const json = blocks('json').map((text) => JSON.parse(text) as Record<string, unknown>);

  it('has examples of every object and template', () => {
    const jobTypes = json.flatMap((value) => ('headers' in value ? [(value['headers'] as { jobType: string }).jobType] : []));
    expect(new Set(jobTypes)).toEqual(new Set(['single-filter', 'aggregation', 'join', 'sql', 'alarm']));
    expect(json.some((value) => 'target_runtime' in value)).toBe(true);
    expect(json.some((value) => 'jobStatus' in value)).toBe(true);
  });

  it.each(blocks('json'))('JSON example parses: %s', (text) => {
    const value = JSON.parse(text) as Record<string, unknown>;
    if ('target_runtime' in value) expect(parseRelocation(value).jobInfo.jobId).toBe('gateway:gw-1-1');
    else if ('headers' in value) {
      expect(parseInstallation(value).plan.sink.topic).toBeTruthy();
      // Every example names a runtime a real host has (a gateway's is gateway:<id>), and that host installs it.
      const runtime = (value['headers'] as { runtime: string }).runtime;
      expect(runtime).toMatch(/^(cloud|gateway:[\w.-]+)$/);
      expect(new RuleEngine({ runtime, clock: { now: () => 0 } }).install(value).runtime).toBe(runtime);
    } else expect(parseJobInfo(value).jobStatus).toBe('RUNNING');
  });

  it.each(blocks('sql'))('SQL example compiles: %s', (text) => {
    expect(compileSql(text, 'out').sources.length).toBeGreaterThan(0);
  });
});
