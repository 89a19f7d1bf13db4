/**
 * Page values in Redis are framed (format marker, length, crc32): a value under a page key that
 * is not an intact page stratafs wrote (another program's bytes of the same length, a flipped
 * byte, a value of the old unframed format) is a miss, never file bytes.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { objectId, type PageId } from '../../src/cache/page-id.js';
import { openSharedTier, type RedisSharedTier } from '../../src/cache/shared/index.js';
import { SharedKeys } from '../../src/cache/shared/keys.js';
import { decodePageFrame, encodePageFrame, PAGE_FRAME_HEADER } from '../../src/cache/shared/page-frame.js';
import { StrataFS } from '../../src/index.js';
import { randomBytes, tempDir } from '../support/helpers.js';

const url = inject('redisUrl');
const PAGE = 64 * 1024;
let admin: Redis;
const opened: RedisSharedTier[] = [];

const prefix = (): string => `pf${randomUUID().slice(0, 8)}:`;

async function tier(keyPrefix: string): Promise<RedisSharedTier> {
  const t = await openSharedTier({ url, keyPrefix, pageSize: PAGE });
  opened.push(t);
  return t;
}

/** The page keys under `keyPrefix`, by page index. */
async function pageKeys(keyPrefix: string): Promise<string[]> {
  const keys = await admin.keys(`${keyPrefix}p:*`);
  return keys.sort((a, b) => Number(a.split(':').pop()) - Number(b.split(':').pop()));
}

/** Inverts the byte at `at`. */
function flip(buffer: Buffer, at: number): void {
  buffer.writeUInt8(buffer.readUInt8(at) ^ 0xff, at);
}

/** The value under `key` with one byte of its last 100 (page bytes in any format) inverted. */
async function flipped(key: string): Promise<Buffer> {
  const value = (await admin.getBuffer(key))!;
  flip(value, value.length - 50);
  return value;
}

beforeAll(() => {
  admin = new Redis(url);
});
afterEach(async () => {
  await Promise.all(opened.splice(0).map((t) => t.close()));
});
afterAll(() => {
  admin.disconnect();
});

describe('page frames', () => {
  it('decode only intact frames, as a view of the value', () => {
    const page = randomBytes(1000);
    const value = encodePageFrame(page);
    expect(value.length).toBe(PAGE_FRAME_HEADER + page.length);
    const decoded = decodePageFrame(value)!;
    expect(decoded.equals(page)).toBe(true);
    expect(decoded.buffer).toBe(value.buffer);
    expect(decodePageFrame(encodePageFrame(Buffer.alloc(0)))?.length).toBe(0);
    expect(decodePageFrame(page)).toBeUndefined(); // unframed (old format, foreign)
    expect(decodePageFrame(value.subarray(0, value.length - 1))).toBeUndefined(); // wrong length
    expect(decodePageFrame(Buffer.concat([value, Buffer.from([0])]))).toBeUndefined();
    expect(decodePageFrame(value.subarray(0, 5))).toBeUndefined();
    const badMagic = Buffer.from(value);
    flip(badMagic, 0);
    expect(decodePageFrame(badMagic)).toBeUndefined();
    const badByte = Buffer.from(value);
    flip(badByte, PAGE_FRAME_HEADER + 500);
    expect(decodePageFrame(badByte)).toBeUndefined();
  });
});

describe('values that are not intact pages', () => {
  it('are not served through StrataFS: the reader gets the store’s bytes; intact pages still come from Redis', async () => {
    const dir = await tempDir('stratafs-frame-');
    const keyPrefix = prefix();
    const make = (): StrataFS => new StrataFS({ cache: { pageSize: PAGE, shared: { url, keyPrefix } }, metadata: { syncInterval: 60_000 } });
    try {
      const data = randomBytes(4 * PAGE);
      await writeFile(join(dir.dir, 'x.bin'), data);
      const a = make();
      await a.mount('/data', `file://${dir.dir}`);
      expect((await a.readFile('/data/x.bin')).equals(data)).toBe(true);
      await a.close(); // its page writes are done
      const keys = await pageKeys(keyPrefix);
      expect(keys).toHaveLength(4);
      // Page 1: other bytes of the same length; page 2: one byte flipped.
      const foreign = randomBytes(await admin.strlen(keys[1]!));
      const damaged = await flipped(keys[2]!);
      await admin.set(keys[1]!, foreign);
      await admin.set(keys[2]!, damaged);

      const b = make();
      await b.mount('/data', `file://${dir.dir}`);
      try {
        expect((await b.readFile('/data/x.bin')).equals(data)).toBe(true);
        expect(b.stats().bytesFromStore).toBe(2 * PAGE);
        const shared = b.stats().shared!;
        expect(shared.hits).toBe(2);
        expect(shared.misses).toBeGreaterThanOrEqual(2);
        expect(shared.rejected).toBeGreaterThanOrEqual(2);
      } finally {
        await b.close();
      }
      // The bad values were dropped (and replaced by the pages the reader fetched).
      expect((await admin.getBuffer(keys[1]!))?.equals(foreign)).not.toBe(true);
      expect((await admin.getBuffer(keys[2]!))?.equals(damaged)).not.toBe(true);
    } finally {
      await dir.cleanup();
    }
  });

  it('are misses of getPages (counted, dropped from Redis); intact ones are hits', async () => {
    const keyPrefix = prefix();
    const t = await tier(keyPrefix);
    const object = objectId('s3://bucket', 'k');
    const pageIds: PageId[] = [0, 1, 2, 3].map((index) => ({ object, version: 'v', index }));
    const pages = pageIds.map(() => randomBytes(PAGE));
    t.putPages(pageIds.map((id, i) => ({ id, data: pages[i]! })));
    await t.settle();
    const keys = new SharedKeys(keyPrefix, PAGE);
    const key = (i: number): string => keys.page(keys.versionTag(pageIds[i]!), i);
    await admin.set(key(1), randomBytes(await admin.strlen(key(1)))); // foreign, same length
    await admin.set(key(2), await flipped(key(2))); // one byte flipped
    await admin.set(key(3), pages[3]!); // the old, unframed format
    const got = await t.getPages(pageIds);
    expect(got[0]?.equals(pages[0]!)).toBe(true);
    expect(got.slice(1)).toEqual([undefined, undefined, undefined]);
    expect(t.stats()).toMatchObject({ hits: 1, misses: 3, rejected: 3, bytesIn: PAGE, errors: 0 });
    await t.settle();
    expect(await admin.exists(key(1), key(2), key(3))).toBe(0);
    expect(await admin.exists(key(0))).toBe(1);
  });

  it('are not taken by single-flight: the process fetches and republishes the page', async () => {
    const keyPrefix = prefix();
    const t = await tier(keyPrefix);
    const id: PageId = { object: objectId('s3://bucket', 'k2'), version: 'v', index: 0 };
    const keys = new SharedKeys(keyPrefix, PAGE);
    const key = keys.page(keys.versionTag(id), 0);
    const page = randomBytes(PAGE);
    await admin.set(key, randomBytes(PAGE + PAGE_FRAME_HEADER));
    let fetches = 0;
    const got = await t.fetchOnce([id], async () => {
      fetches++;
      return [page];
    });
    expect(got[0]!.equals(page)).toBe(true);
    expect(fetches).toBe(1);
    expect(t.stats()).toMatchObject({ hits: 0, rejected: 1, leadFetches: 1 });
    await t.settle();
    const again = await t.fetchOnce([id], async () => {
      fetches++;
      return [page];
    });
    expect(again[0]!.equals(page)).toBe(true);
    expect(fetches).toBe(1);
    expect(t.stats().hits).toBe(1);
  });
});

describe('page sizes', () => {
  it('processes with different cache.pageSize never read each other’s pages, whatever cache.shared says', async () => {
    const dir = await tempDir('stratafs-frame-');
    const keyPrefix = prefix();
    try {
      const data = randomBytes(3 * PAGE); // page 1 is PAGE bytes long at either page size
      await writeFile(join(dir.dir, 'x.bin'), data);
      // A `pageSize` given in cache.shared does not make processes of other page sizes share pages.
      const shared = { url, keyPrefix, pageSize: PAGE } as const;
      const a = new StrataFS({ cache: { pageSize: PAGE, shared }, metadata: { syncInterval: 60_000 } });
      try {
        await a.mount('/data', `file://${dir.dir}`);
        expect((await a.readFile('/data/x.bin')).equals(data)).toBe(true);
      } finally {
        await a.close();
      }
      const b = new StrataFS({ cache: { pageSize: 2 * PAGE, shared }, metadata: { syncInterval: 60_000 } });
      try {
        await b.mount('/data', `file://${dir.dir}`);
        expect((await b.readFile('/data/x.bin')).equals(data)).toBe(true);
      } finally {
        await b.close();
      }
    } finally {
      await dir.cleanup();
    }
  });
});
