/**
 * How the bench starts one of its own scripts in a child process: the compiled script with plain
 * `node` when the bench runs compiled (`npm run bench`), the TypeScript file through tsx when it
 * runs from source (`npx tsx bench/run.ts`).
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const compiled = import.meta.url.endsWith('.js');

/** The `node` arguments that run bench script `name` (a path below `bench/`, without extension). */
export function childScript(name: string): string[] {
  return compiled ? [join(here, `${name}.js`)] : ['--import', 'tsx', join(here, `${name}.ts`)];
}
