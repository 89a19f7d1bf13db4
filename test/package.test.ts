import { execFileSync } from 'node:child_process';
import { beforeAll, describe, expect, it } from 'vitest';

// Builds the package once and loads it the two ways users do.
describe('the built package', () => {
  beforeAll(() => {
    execFileSync(process.execPath, ['scripts/build.mjs'], { stdio: 'pipe' });
  }, 180_000);

  const script = `
    const fs = new StrataFS();
    await fs.mount('/', 'memory://');
    await fs.writeFile('/x', 'ok');
    console.log((await fs.readFile('/x')).toString(), typeof registerStore, typeof S3Store);
    await fs.close();`;

  it('works with import (ESM)', () => {
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', `import { StrataFS, registerStore, MemoryStore as S3Store } from 'stratafs'; ${script}`], { encoding: 'utf8' });
    expect(out.trim()).toBe('ok function function');
  });

  it('works with require (CommonJS)', () => {
    const out = execFileSync(process.execPath, ['-e', `const { StrataFS, registerStore, MemoryStore: S3Store } = require('stratafs'); (async () => { ${script} })()`], { encoding: 'utf8' });
    expect(out.trim()).toBe('ok function function');
  });

  it('importing stratafs loads no cloud SDK', () => {
    const out = execFileSync(
      process.execPath,
      ['-e', `require('stratafs'); console.log(Object.keys(require.cache).filter((k) => /@aws-sdk|@azure|@google-cloud|ali-oss|cos-nodejs/.test(k)).length)`],
      { encoding: 'utf8' },
    );
    expect(out.trim()).toBe('0');
  });
});
