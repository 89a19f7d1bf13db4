import { randomBytes } from 'node:crypto';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorLine, workspace, type Workspace } from './cli-harness.js';

interface Info {
  path: string;
  size: number;
  cached: number;
}
interface Stats {
  disk: { used: number; capacity: number; pages: number } | undefined;
  memory: { used: number; capacity: number; pages: number };
  pendingWrites: number;
}

describe('stratafs mount / load / free / pin / unpin / persist / stats', () => {
  let ws: Workspace;
  let w: string;

  beforeAll(async () => {
    ws = await workspace(({ a, b, dir }) => {
      w = join(dir, 'w');
      return {
        cache: { pageSize: '64KiB', disk: { dir: 'cache', capacity: '64MiB' } },
        mounts: {
          '/a': pathToFileURL(a).href,
          '/b': { uri: pathToFileURL(b).href, readOnly: true, syncInterval: 0 },
          '/w': { uri: pathToFileURL(join(dir, 'w')).href, writeType: 'MUST_CACHE' },
        },
      };
    });
    await mkdir(w);
    await mkdir(join(ws.a, 'set', 'inner'), { recursive: true });
    await writeFile(join(ws.a, 'set', 'one.bin'), randomBytes(150_000));
    await writeFile(join(ws.a, 'set', 'two.bin'), randomBytes(70_000));
    await writeFile(join(ws.a, 'set', 'inner', 'three.bin'), randomBytes(10_000));
  });
  afterAll(() => ws.cleanup());

  const cachedOf = async (path: string): Promise<Record<string, [number, number]>> => {
    const entries = await ws.json<Info[]>('ls', '-R', path);
    return Object.fromEntries(entries.filter((e) => e.size > 0).map((e) => [e.path, [e.cached, e.size]]));
  };

  it('mount lists the mounts with their mode and types; --json gives MountInfo', async () => {
    const text = await ws.run('mount');
    const lines = text.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^PATH\s+URI\s+MODE\s+READ\s+WRITE\s+SYNC$/);
    expect(lines[1]).toMatch(/^\/a\s+file:\/\/\S+\/a\s+rw\s/);
    expect(lines[2]).toMatch(/^\/b\s+file:\/\/\S+\/b\s+ro\s+-\s+-\s+0ms$/);
    expect(lines[3]).toMatch(/^\/w\s+\S+\s+rw\s+-\s+MUST_CACHE\s+-$/);
    const mounts = await ws.json<{ path: string; readOnly: boolean }[]>('mount');
    expect(mounts.map((m) => [m.path, m.readOnly])).toEqual([
      ['/a', false],
      ['/b', true],
      ['/w', false],
    ]);
  });

  it('load -r fills the disk cache; without a TTY progress comes as plain lines on stderr', async () => {
    expect(Object.values(await cachedOf('/a/set')).every(([cached]) => cached === 0)).toBe(true);
    const result = await ws.run('load', '-r', '/a/set');
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^loaded 3 files, 225 KiB in \S+\n$/);
    const lines = result.stderr.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^load \/a\/set: 0\/3 files, 0 B\/225 KiB \(0%\)/);
    expect(lines.at(-1)).toMatch(/^load \/a\/set: 3\/3 files, 225 KiB\/225 KiB \(100%\), \S+ \S+\/s, ETA 0s$/);
    expect(result.stderr).not.toMatch(/\x1b\[/); // no terminal control codes
    for (const [cached, size] of Object.values(await cachedOf('/a/set'))) expect(cached).toBe(size);
  });

  it('stats --json reports the shared disk cache', async () => {
    const stats = await ws.json<Stats>('stats');
    expect(stats.disk).toBeDefined();
    expect(stats.disk!.pages).toBeGreaterThanOrEqual(5); // 64 KiB pages: 3 + 2 + 1
    expect(stats.disk!.used).toBeGreaterThanOrEqual(230_000);
    expect(stats.disk!.capacity).toBe(64 * 1024 * 1024);
    const text = await ws.run('stats');
    expect(text.stdout).toMatch(/^disk cache:\s+\S+ KiB of 64 MiB in \d+ pages$/m);
  });

  it('free drops cached pages: a file, then a tree with -r', async () => {
    expect((await ws.run('free', '/a/set/one.bin')).code).toBe(0);
    let cached = await cachedOf('/a/set');
    expect(cached['/a/set/one.bin']![0]).toBe(0);
    expect(cached['/a/set/two.bin']![0]).toBe(70_000);
    const needsR = await ws.run('free', '/a/set');
    expect(needsR.code).toBe(5);
    expect((await ws.run('free', '-r', '/a/set')).code).toBe(0);
    cached = await cachedOf('/a/set');
    expect(Object.values(cached).every(([c]) => c === 0)).toBe(true);
  });

  it('pin loads and keeps pages through free; unpin lets free drop them', async () => {
    expect((await ws.run('pin', '/a/set/two.bin')).code).toBe(0);
    expect((await cachedOf('/a/set'))['/a/set/two.bin']).toEqual([70_000, 70_000]);
    expect((await ws.run('free', '-r', '/a/set')).code).toBe(0);
    expect((await cachedOf('/a/set'))['/a/set/two.bin']).toEqual([70_000, 70_000]);
    expect((await ws.run('unpin', '/a/set/two.bin')).code).toBe(0);
    expect((await ws.run('free', '/a/set/two.bin')).code).toBe(0);
    expect((await cachedOf('/a/set'))['/a/set/two.bin']).toEqual([0, 70_000]);
  });

  it('persist uploads a MUST_CACHE write that so far lived only in the disk cache', async () => {
    await writeFile(join(ws.dir, 'note.txt'), 'kept in cache');
    expect((await ws.run('cp', `file:${join(ws.dir, 'note.txt')}`, '/w/note.txt')).code).toBe(0);
    expect(await readdir(w)).toEqual([]);
    expect((await ws.run('cat', '/w/note.txt')).stdout).toBe('kept in cache');
    expect((await ws.json<Stats>('stats')).pendingWrites).toBe(1);
    expect((await ws.run('persist', '/w/note.txt')).code).toBe(0);
    expect(await readdir(w)).toEqual(['note.txt']);
    expect((await ws.json<Stats>('stats')).pendingWrites).toBe(0);
  });

  it('cache commands report errors the same way: ENOENT exit 3, EROFS exit 4', async () => {
    const [load, pin, readOnly] = await Promise.all([ws.run('load', '/a/none'), ws.run('pin', '/a/none'), ws.run('mkdir', '/b/new')]);
    expect(load.code).toBe(3);
    expect(load.stderr.trimEnd().split('\n').at(-1)).toMatch(/^stratafs: ENOENT: .* \(\/a\/none\)$/);
    expect(pin.code).toBe(3);
    expect(pin.stderr).toMatch(errorLine('ENOENT', '/a/none'));
    expect(readOnly.code).toBe(4);
    expect(readOnly.stderr).toMatch(errorLine('EROFS', '/b/new'));
  });
});
