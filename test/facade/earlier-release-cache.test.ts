/**
 * A disk cache dir kept from an earlier release, built here as that release left it (its rows
 * in the SQLite index).
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { StrataFS } from '../../src/index.js';
import { tempDir } from '../support/helpers.js';

const KiB = 1024;

/** Renames the versions of the cached pages of file:// files as the earlier release named them: `inode-size-mtimeNs`, without the change time. */
function nameVersionsAsBefore(cacheDir: string): number {
  const db = new Database(join(cacheDir, 'index.sqlite'));
  try {
    const rows = db.prepare<[], { key: string; version: string }>("SELECT key, version FROM pages WHERE object LIKE 'file:%'").all();
    const rename = db.prepare('UPDATE pages SET key = ?, version = ? WHERE key = ?');
    for (const { key, version } of rows) {
      const before = version.split('-').slice(0, 3).join('-');
      rename.run(key.replace(`\n${version}\n`, `\n${before}\n`), before, key);
    }
    return rows.length;
  } finally {
    db.close();
  }
}

describe('a disk cache dir kept from the release before file:// versions included the change time', () => {
  it('a file pinned there can be pinned again in the room its pages of the old version held', async () => {
    const cache = await tempDir('stratafs-earlier-cache-');
    const store = await tempDir('stratafs-earlier-store-');
    const content = Buffer.alloc(1024 * KiB, 5);
    for (let i = 0; i < content.length; i += 4 * KiB) content.writeUInt32BE(i, i);
    await writeFile(join(store.dir, 'lookup.bin'), content);
    const options = { cache: { pageSize: 64 * KiB, memory: false as const, disk: { dir: cache.dir, capacity: 1536 * KiB } } };
    try {
      const before = new StrataFS(options);
      await before.mount('/data', `file://${store.dir}`);
      await before.pin('/data/lookup.bin');
      await before.close();
      expect(nameVersionsAsBefore(cache.dir)).toBe(16);

      const fs = new StrataFS(options);
      try {
        await fs.mount('/data', `file://${store.dir}`);
        await fs.pin('/data/lookup.bin');
        expect((await fs.readFile('/data/lookup.bin')).equals(content)).toBe(true);
        expect((await fs.stat('/data/lookup.bin')).cached).toBe(content.length);
        expect(fs.stats().disk!.used).toBeLessThanOrEqual(1536 * KiB);
      } finally {
        await fs.close();
      }
    } finally {
      await cache.cleanup();
      await store.cleanup();
    }
  });
});
