import { afterAll } from 'vitest';
import { describeFacadeConformance } from '../conformance/facade-suite.js';
import { LocalStore } from '../../src/index.js';
import { tempDir } from '../support/helpers.js';

const dirs: { cleanup: () => Promise<void> }[] = [];
afterAll(async () => {
  for (const d of dirs) await d.cleanup();
});

describeFacadeConformance('local', async () => {
  const dir = await tempDir('stratafs-local-facade-');
  dirs.push(dir);
  return new LocalStore({ root: dir.dir });
});
