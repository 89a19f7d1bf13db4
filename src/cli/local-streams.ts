/**
 * Streams over local files for `cp`. A named pipe is read and written through the event loop
 * (as a socket is), not by blocking reads and writes in the thread pool: a pipe whose other end
 * is silent then never keeps a stopped command from exiting.
 * @module
 */
import { close as closeFd, createReadStream, createWriteStream, fstat, open } from 'node:fs';
import { Socket } from 'node:net';
import type { Readable, Writable } from 'node:stream';
import { promisify } from 'node:util';

const openFd = promisify(open);
const fstatFd = promisify(fstat);

/** A readable stream of the local file `path`; rejects with the file system's error. */
export async function openLocalSource(path: string): Promise<Readable> {
  const fd = await openFd(path, 'r');
  if (await isPipe(fd)) return new Socket({ fd, readable: true, writable: false });
  return createReadStream('', { fd });
}

/** A writable stream onto the local file `path` as it is (a device or a named pipe), not replacing it. */
export async function openLocalInPlace(path: string): Promise<Writable> {
  const fd = await openFd(path, 'w');
  if (await isPipe(fd)) return new Socket({ fd, readable: false, writable: true });
  return createWriteStream('', { fd });
}

/** Whether `fd` is a named pipe (closed when the check fails). */
async function isPipe(fd: number): Promise<boolean> {
  try {
    return (await fstatFd(fd)).isFIFO();
  } catch (error) {
    await promisify(closeFd)(fd).catch(() => undefined);
    throw error;
  }
}
