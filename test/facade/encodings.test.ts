/**
 * `readFile` and `writeFile` take an encoding as `fs.promises` does: in the options, or alone as
 * the last argument. Strings come back decoded; a bad encoding is `EINVAL` and writes nothing.
 */
import { once } from 'node:events';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { StrataError, StrataFS } from '../../src/index.js';

describe('readFile and writeFile with an encoding', () => {
  let fs: StrataFS;
  beforeEach(async () => {
    fs = new StrataFS({ cache: { pageSize: 4096 } });
    await fs.mount('/m', 'memory://');
  });
  afterEach(async () => {
    await fs.close();
  });

  it('readFile decodes the bytes when given an encoding, alone or in the options', async () => {
    const text = 'zürich → 東京 '.repeat(500); // multi-byte characters across 4 KiB pages
    await fs.writeFile('/m/t.txt', text);
    const alone: string = await fs.readFile('/m/t.txt', 'utf8');
    expect(alone).toBe(text);
    expect(await fs.readFile('/m/t.txt', { encoding: 'utf8' })).toBe(text);
    expect(await fs.readFile('/m/t.txt', { encoding: 'hex', offset: 0, length: 2 })).toBe(Buffer.from(text).subarray(0, 2).toString('hex'));
    expect(await fs.readFile('/m/t.txt', { encoding: 'base64' })).toBe(Buffer.from(text).toString('base64'));
  });

  it('readFile gives a Buffer without an encoding or with encoding null, as fs does', async () => {
    await fs.writeFile('/m/b', Buffer.from([1, 2, 3]));
    const plain: Buffer = await fs.readFile('/m/b');
    expect(Buffer.isBuffer(plain)).toBe(true);
    const nulled = await fs.readFile('/m/b', { encoding: null });
    expect(Buffer.isBuffer(nulled)).toBe(true);
    expect([...nulled]).toEqual([1, 2, 3]);
  });

  it('writeFile writes a string in the encoding given, alone or in the options', async () => {
    await fs.writeFile('/m/latin1', 'héllo', 'latin1');
    expect([...(await fs.readFile('/m/latin1'))]).toEqual([0x68, 0xe9, 0x6c, 0x6c, 0x6f]);
    await fs.writeFile('/m/b64', 'aGkgdGhlcmU=', { encoding: 'base64', writeType: 'THROUGH' });
    expect(await fs.readFile('/m/b64', 'utf8')).toBe('hi there');
    await fs.writeFile('/m/default', 'héllo');
    expect((await fs.readFile('/m/default')).length).toBe(6); // utf8 by default
  });

  it('writeFile writes the bytes any TypedArray or DataView views, and the chunks of a plain iterable, as fs does', async () => {
    const words = new Uint16Array([0x0102, 0x0304, 0x0506, 0x0708]).subarray(1, 3);
    await fs.writeFile('/m/u16', words);
    expect(await fs.readFile('/m/u16')).toEqual(Buffer.from(words.buffer, words.byteOffset, words.byteLength));
    const floats = new Float64Array([1.5, -2]);
    await fs.writeFile('/m/f64', floats);
    expect(new Float64Array(new Uint8Array(await fs.readFile('/m/f64')).buffer)).toEqual(floats);
    const bytes = Buffer.from('0123456789');
    await fs.writeFile('/m/view', new DataView(bytes.buffer, bytes.byteOffset + 2, 5));
    expect(await fs.readFile('/m/view', 'utf8')).toBe('23456');
    const chunks: Array<ArrayBufferView | string> = [Buffer.from('ab'), 'c€', new Uint16Array([0x6564])];
    await fs.writeFile('/m/chunks', chunks);
    expect(await fs.readFile('/m/chunks', 'utf8')).toBe('abc€de');
  });

  it('options may be null, and streams take an encoding alone as the second argument, as fs does', async () => {
    expect((await fs.writeFile('/m/n', 'abc', null as never)).size).toBe(3);
    expect(await fs.readFile('/m/n', null as never)).toEqual(Buffer.from('abc'));
    expect(await fs.readdir('/m', null as never)).toEqual(['n']);
    expect((await fs.stat('/m/n', null as never)).size).toBe(3);
    await fs.mkdir('/m/d', null as never);
    await fs.copy('/m/n', '/m/d/n', null as never);
    await fs.rename('/m/d/n', '/m/d/o', null as never);
    await fs.rm('/m/d/o', null as never);
    const out = fs.createWriteStream('/m/hex', 'hex');
    out.end('c3a9');
    await once(out, 'finish');
    expect(await fs.readFile('/m/hex', 'utf8')).toBe('é');
    let text = '';
    for await (const chunk of fs.createReadStream('/m/hex', 'utf8')) text += chunk as string;
    expect(text).toBe('é');
    let nulled = 0;
    for await (const chunk of fs.createReadStream('/m/n', null)) nulled += (chunk as Buffer).length;
    expect(nulled).toBe(3);
  });

  it("takes fs's open flags of whole-file reads and writes: 'r', 'w', 'wx'; append is EINVAL and writes nothing", async () => {
    await fs.writeFile('/m/f', 'one', { flag: 'w' });
    expect(await fs.readFile('/m/f', { encoding: 'utf8', flag: 'r' })).toBe('one');
    await expect(fs.writeFile('/m/f', 'two', { flag: 'wx' })).rejects.toMatchObject({ code: 'EEXIST' });
    await fs.writeFile('/m/g', 'new', { flag: 'wx' });
    for (const flag of ['a', 'r+', 'w+']) {
      await expect(fs.writeFile('/m/f', 'three', { flag } as never)).rejects.toMatchObject({ code: 'EINVAL', message: expect.stringContaining(`"${flag}"`) });
    }
    await expect(fs.writeFile('/m/f', 'x', { flag: 'wx', overwrite: true })).rejects.toMatchObject({ code: 'EINVAL' });
    await expect(fs.readFile('/m/f', { flag: 'w' } as never)).rejects.toMatchObject({ code: 'EINVAL' });
    const exclusive = fs.createWriteStream('/m/f', { flags: 'wx' });
    exclusive.end('four');
    await expect(once(exclusive, 'finish')).rejects.toMatchObject({ code: 'EEXIST' });
    expect(() => fs.createWriteStream('/m/f', { flags: 'a' } as never)).toThrow(expect.objectContaining({ code: 'EINVAL' }));
    const replacing = fs.createWriteStream('/m/f', { flags: 'w' });
    replacing.end('five');
    await once(replacing, 'finish');
    expect(await fs.readFile('/m/f', 'utf8')).toBe('five');
    expect(await fs.readFile('/m/g', 'utf8')).toBe('new');
  });

  it('a bad encoding is EINVAL: readFile reads nothing, writeFile writes nothing', async () => {
    await fs.writeFile('/m/t.txt', 'x');
    for (const bad of ['utf-9', 42] as unknown[]) {
      const read = await fs.readFile('/m/t.txt', bad as BufferEncoding).catch((e: unknown) => e);
      expect(read).toBeInstanceOf(StrataError);
      expect((read as StrataError).code).toBe('EINVAL');
      expect((read as StrataError).message).toMatch(typeof bad === 'string' ? /encoding must be a Buffer encoding/ : /options must be an object/);
      const written = await fs.writeFile('/m/new.txt', 'y', { encoding: bad as BufferEncoding }).catch((e: unknown) => e);
      expect((written as StrataError).code).toBe('EINVAL');
    }
    expect(await fs.exists('/m/new.txt')).toBe(false);
    const stats = fs.stats();
    expect(stats.bytesFromStore).toBe(0);
  });
});
