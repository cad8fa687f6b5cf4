/**
 * @module AssemblyScript function fixtures for the cloud's tests and e2e: builds a source of ../assembly/
 * with asc, with the firmware's options (@ferry/firmware/asc-options), into memory; nothing is written to the
 * repository. The sources sit outside src/ because they are AssemblyScript, which tsc does not check.
 */
import { fileURLToPath } from 'node:url';
import { dirname, join, relative } from 'node:path';
import { functionReleaseOptions } from '@ferry/firmware/asc-options';
import asc from 'assemblyscript/asc';

const here = join(dirname(fileURLToPath(import.meta.url)), '../assembly');
const root = join(here, '../../..');

/** The wasm bytes of ../assembly/<name>.ts. */
export async function buildFixture(name: string): Promise<Uint8Array> {
  // baseDir is the sources' folder: at the repository root asc would also pick up asconfig.json's entries.
  const entry = `${name}.ts`;
  const abort = relative(here, join(root, 'firmware/assembly/abi/abort')).split('\\').join('/');
  let out: Uint8Array | undefined;
  const errors: string[] = [];
  const r = await asc.main([entry, '--baseDir', here, '--outFile', `${name}.wasm`, ...functionReleaseOptions(abort)], {
    writeFile: (file: string, contents: Uint8Array | string) => {
      if (file.endsWith('.wasm') && typeof contents !== 'string') out = contents;
    },
    stdout: { write: () => true } as never,
    stderr: {
      write: (s: string) => {
        errors.push(String(s));
        return true;
      },
    } as never,
  });
  if (r.error !== null || out === undefined) throw new Error(`asc ${entry} failed: ${r.error?.message ?? 'no output'}\n${errors.join('')}`);
  return out;
}
