import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorLine, runCli } from './cli-harness.js';

describe('stratafs config: --config, ./stratafs.config.json, ${ENV}', () => {
  let dir: string;
  let data: string;
  let elsewhere: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'stratafs-cli-config-'));
    data = join(dir, 'data');
    elsewhere = join(dir, 'elsewhere');
    await mkdir(data);
    await mkdir(elsewhere);
    await writeFile(join(data, 'f.txt'), 'from the config');
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  const config = async (name: string, body: unknown): Promise<string> => {
    const file = join(dir, name);
    await writeFile(file, typeof body === 'string' ? body : JSON.stringify(body));
    return file;
  };

  it('--config FILE is used from any working directory', async () => {
    const file = await config('explicit.json', { mounts: { '/d': pathToFileURL(data).href } });
    const result = await runCli(['--config', file, 'cat', '/d/f.txt'], elsewhere);
    expect(result).toMatchObject({ code: 0, stdout: 'from the config', stderr: '' });
    // also after the command
    expect((await runCli(['ls', '/d', '--config', file], elsewhere)).stdout).toBe('f.txt\n');
  });

  it('without --config and without ./stratafs.config.json: ENOENT naming the file, exit 3', async () => {
    const result = await runCli(['ls'], elsewhere);
    expect(result.code).toBe(3);
    expect(result.stderr).toMatch(errorLine('ENOENT', join(elsewhere, 'stratafs.config.json')));
  });

  it('${NAME} in the config is replaced from the environment; a secret is never printed', async () => {
    const file = await config('env.json', {
      mounts: {
        '/d': '${CLI_TEST_DATA_URI}',
        '/s': { uri: 'memory://', options: { secretKey: '${CLI_TEST_SECRET}' } },
      },
    });
    const env = { CLI_TEST_DATA_URI: pathToFileURL(data).href, CLI_TEST_SECRET: 'sUp3r-s3cr3t-v4lue' };
    const cat = await runCli(['--config', file, 'cat', '/d/f.txt'], elsewhere, env);
    expect(cat).toMatchObject({ code: 0, stdout: 'from the config' });
    const mounts = await runCli(['--config', file, 'mount', '--json'], elsewhere, env);
    expect(mounts.code).toBe(0);
    expect(mounts.stdout).not.toContain('sUp3r-s3cr3t-v4lue');
    const parsed = JSON.parse(mounts.stdout) as { path: string; uri: string; options: { options: Record<string, unknown> } }[];
    expect(parsed.find((m) => m.path === '/d')?.uri).toBe(pathToFileURL(data).href);
    expect(parsed.find((m) => m.path === '/s')?.options.options.secretKey).toBe('***');
  });

  it('a missing variable is EINVAL naming it (exit 2), never an empty value', async () => {
    const file = await config('missing-var.json', { mounts: { '/s': { uri: 'memory://', options: { secretKey: '${CLI_TEST_UNSET_VAR}', other: '${CLI_TEST_SECRET}' } } } });
    const result = await runCli(['--config', file, 'ls'], elsewhere, { CLI_TEST_UNSET_VAR: undefined, CLI_TEST_SECRET: 'sUp3r-s3cr3t-v4lue' });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(errorLine('EINVAL', file));
    expect(result.stderr).toContain('CLI_TEST_UNSET_VAR');
    expect(result.stderr).not.toContain('sUp3r-s3cr3t-v4lue');
  });

  it('a bad config: one EINVAL line with the file, exit 2 (unknown key, bad JSON, bad option)', async () => {
    const unknownKey = await config('unknown-key.json', { mounts: { '/d': { uri: pathToFileURL(data).href, readonly: true } } });
    const badJson = await config('bad.json', '{\n  "mounts": {\n    "/d": "file:///x" "secret-looking-text"\n  }\n}\n');
    const badOption = await config('bad-option.json', { cache: { pageSize: 'huge' }, mounts: {} });
    const [a, b, c] = await Promise.all([unknownKey, badJson, badOption].map((f) => runCli(['--config', f, 'ls'], elsewhere)));
    for (const [result, file] of [
      [a!, unknownKey],
      [b!, badJson],
    ] as const) {
      expect(result.code).toBe(2);
      expect(result.stderr).toMatch(errorLine('EINVAL', file));
    }
    expect(a!.stderr).toContain("unknown key 'readonly'");
    expect(b!.stderr).toContain('line 3, column 23');
    expect(b!.stderr).not.toContain('secret-looking-text');
    expect(c!.code).toBe(2);
    expect(c!.stderr).toMatch(errorLine('EINVAL', badOption));
    expect(c!.stderr).toMatch(/^stratafs: EINVAL: cache\.pageSize /);
  });

  it('an unknown top-level key names the config file, also a relative --config', async () => {
    const file = await config('unknown-top-key.json', { mounts: {}, extra: true });
    const result = await runCli(['--config', '../unknown-top-key.json', 'ls'], elsewhere);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(errorLine('EINVAL', file));
    expect(result.stderr).toContain("'extra'");
  });

  it('a default ./stratafs.config.json in the working directory is read', async () => {
    const cwd = join(dir, 'with-default');
    await mkdir(cwd);
    await writeFile(join(cwd, 'stratafs.config.json'), JSON.stringify({ mounts: { '/data': pathToFileURL(data).href } }));
    expect((await runCli(['ls', '/data'], cwd)).stdout).toBe('f.txt\n');
  });
});
