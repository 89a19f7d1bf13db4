/**
 * Read-your-writes under concurrency: a `stat` or listing answer that was on its way while a
 * change went through the same `StrataFS` is returned to its caller but never kept, so the next
 * call sees the change.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { StrataFS } from '../../src/index.js';
import { MetadataCache } from '../../src/cache/metadata-cache.js';
import { CountingStore } from '../support/counting-store.js';

const file = (key: string) => ({ key, size: 1, etag: 'e1', isDirectory: false });

describe('metadata answers that cross a change', () => {
  let fs: StrataFS | undefined;
  afterEach(() => fs?.close());

  it('are not kept by the metadata cache', () => {
    const meta = new MetadataCache(60_000);
    const before = meta.epoch;
    meta.written('d/other.txt', file('d/other.txt'));
    meta.setStat('d/a.txt', null, 0, before); // asked before the write: not kept
    meta.setList('d', [file('d/a.txt')], 0, before);
    expect(meta.getStat('d/a.txt')).toBeUndefined();
    expect(meta.getList('d')).toBeUndefined();
    meta.setStat('d/a.txt', null, 0, meta.epoch); // asked after it: kept
    expect(meta.getStat('d/a.txt')).toBeNull();
  });

  it('a listing on its way while a file is written there does not hide the file afterwards', async () => {
    fs = new StrataFS();
    const store = new CountingStore();
    await store.inner.write('dir/old.txt', Buffer.from('o'));
    await fs.mount('/s', store);
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const list = store.list.bind(store);
    store.list = (prefix, opts) =>
      (async function* () {
        const items = [];
        for await (const item of list(prefix, opts)) items.push(item);
        await gate; // the answer is ready, and arrives late
        yield* items;
      })();
    const listing = fs.readdir('/s/dir');
    await new Promise((resolve) => setTimeout(resolve, 20));
    await fs.writeFile('/s/dir/new.txt', 'n');
    release();
    expect(await listing).toEqual(['old.txt']); // it was asked before the write finished
    expect(await fs.readdir('/s/dir')).toEqual(['new.txt', 'old.txt']);
  });
});
