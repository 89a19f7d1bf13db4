/**
 * Whole reads of one 64 MiB object on S3 and Azure: cold through stratafs against the raw SDK on
 * the same server (plus the connector alone, OpenDAL and `rclone cat` as peers), then the second
 * read (served by the memory tier) against the raw SDK and OpenDAL again.
 *
 * Every side does the same memory work: a cold read and a `readFile` land in one new 64 MiB
 * Buffer on every side; the "into a buffer" cases fill one preallocated buffer on every side.
 */
import { StrataFS } from '../src/index.js';
import { azureBackend, s3Backend, type Backend } from './backends.js';
import type { BenchEnv } from './env.js';
import { expectBytes, MiB, readInto, readNew, testData } from './env.js';
import type { CaseGroup, MadeGroup } from './group.js';
import type { BenchCase, Measure } from './harness.js';
import { loadOpendal, opendalReadInto, rcloneCat, rcloneMissing, rcloneVersion, type Opendal } from './peers.js';

const SIZE = 64 * MiB;
const KEY = 'whole/64MiB.bin';

function ids(b: string): string[] {
  return [`${b}-cold`, `${b}-second`, `${b}-second-readfile`, `${b}-second-opendal`, `${b}-second-opendal-readfile`];
}

/** The cases of one backend. */
async function backendCases(env: BenchEnv, backend: Backend, wanted: (id: string) => boolean): Promise<MadeGroup> {
  const [cold, second, secondReadFile, secondOpendal, secondOpendalReadFile] = ids(backend.id) as [string, string, string, string, string];
  await backend.put(KEY, testData(SIZE, 64));
  const fs = new StrataFS();
  await fs.mount('/store', backend.uri, backend.mountOptions);
  const path = `/store/${KEY}`;
  const connector = backend.connector();
  const lib = await loadOpendal();
  const opendalSkip = typeof lib === 'string' ? lib : undefined;
  const op = typeof lib === 'string' ? undefined : backend.opendal(lib as Opendal);
  const opendalName = typeof lib === 'string' ? 'OpenDAL Operator' : `OpenDAL ${lib.version} Operator`;
  const target = Buffer.alloc(SIZE);

  const sdkNew: Measure = {
    name: `${backend.sdkName} into a new Buffer`,
    run: async () => {
      const { body, size } = await backend.sdkGet(KEY);
      expectBytes((await readNew(body, size)).length, SIZE, backend.sdkName);
    },
  };
  const sdkInto: Measure = {
    name: `${backend.sdkName} into a preallocated buffer`,
    run: async () => {
      const { body } = await backend.sdkGet(KEY);
      expectBytes(await readInto(body, target), SIZE, backend.sdkName);
    },
  };
  const warm = async (): Promise<void> => void (await fs.readFile(path));
  // The floors: what any read from memory costs on this machine, whatever holds the bytes.
  const resident = testData(SIZE, 64);
  const copyFloor: Measure = { name: 'floor: Buffer.copy of 64 MiB into a preallocated buffer (no I/O)', run: async () => expectBytes(resident.copy(target), SIZE, 'copy') };
  const allocFloor: Measure = {
    name: 'floor: Buffer.allocUnsafe(64 MiB) + copy (no I/O; a new Buffer\'s page faults)',
    run: async () => expectBytes(resident.copy(Buffer.allocUnsafe(SIZE)), SIZE, 'copy'),
  };
  const cases: BenchCase[] = [];
  // A StrataFS made for each run (and closed after it): its pages go into memory no earlier read has released.
  let fresh: StrataFS | undefined;

  if (wanted(cold)) {
    const rclone = backend.rclone(KEY);
    const commands = rcloneMissing() ? undefined : await env.commands();
    cases.push({
      id: cold,
      title: `cold read of a 64 MiB object via ${backend.label} (fs.readFile, empty cache)`,
      baseline: sdkNew,
      candidate: {
        name: 'stratafs readFile, cold (one GET, its pages cached)',
        beforeEach: () => fs.free(path),
        run: async () => expectBytes((await fs.readFile(path)).length, SIZE, 'readFile'),
      },
      peers: [
        {
          name: 'stratafs readFile, cold, in a new StrataFS (no released page memory to reuse)',
          beforeEach: async () => {
            fresh = new StrataFS();
            await fresh.mount('/store', backend.uri, backend.mountOptions);
          },
          run: async () => expectBytes((await fresh!.readFile(path)).length, SIZE, 'readFile'),
          // Its 64 MiB of pages are let go of at once, not kept beside the other measures' runs.
          afterEach: async () => {
            await fresh?.close();
            fresh = undefined;
          },
        },
        {
          name: `${backend.label} connector alone: store.read into a new Buffer`,
          run: async () => expectBytes((await readNew(await connector.read(KEY), SIZE)).length, SIZE, 'store.read'),
        },
        {
          name: `${opendalName}.read (a new Buffer)`,
          skip: opendalSkip,
          run: async () => expectBytes((await op!.read(KEY)).length, SIZE, 'opendal read'),
        },
        {
          name: `rclone cat, whole process (${rcloneVersion() ?? 'rclone'})`,
          skip: rcloneMissing(),
          run: async () => expectBytes(await rcloneCat(commands!, rclone.remote, rclone.env), SIZE, 'rclone cat'),
        },
      ],
      target: { ratio: 0.9, text: '>= 0.9x' },
      runs: 15,
      note:
        'each stratafs run starts with fs.free(): the file is opened by its GET (whose answer is its stat), and its 64 pages are kept in the memory tier, ' +
        'in page memory the pages dropped by fs.free() released (as a cache at capacity reuses what it evicts); the new-StrataFS row has none to reuse',
    });
  }
  const warmHandleRead = {
    name: 'stratafs open + handle.read + close (memory tier)',
    before: warm,
    run: async (): Promise<void> => {
      const handle = await fs.open(path);
      expectBytes((await handle.read(target, 0, SIZE, 0)).bytesRead, SIZE, 'handle.read');
      await handle.close();
    },
  };
  if (wanted(second)) {
    cases.push({
      id: second,
      title: `second read of that object via ${backend.label}, into a caller's 64 MiB buffer`,
      baseline: sdkInto,
      candidate: warmHandleRead,
      peers: [copyFloor],
      target: { ratio: 20, text: '>= 20x faster' },
    });
  }
  if (wanted(secondReadFile)) {
    cases.push({
      id: secondReadFile,
      title: `second read of that object via ${backend.label}, readFile (a new 64 MiB Buffer)`,
      baseline: sdkNew,
      candidate: { name: 'stratafs readFile (memory tier)', before: warm, run: async () => expectBytes((await fs.readFile(path)).length, SIZE, 'readFile') },
      peers: [allocFloor],
      target: { ratio: 20, text: '>= 20x faster' },
      note: 'both sides fill one new 64 MiB Buffer (its page faults are part of both times): the floor row bounds this ratio',
    });
  }
  if (wanted(secondOpendal)) {
    cases.push({
      id: secondOpendal,
      title: `second read of that object via ${backend.label} against OpenDAL (no cache), into a caller's buffer`,
      baseline: {
        name: `${opendalName} reader.read into a preallocated buffer`,
        skip: opendalSkip,
        run: async () => expectBytes(await opendalReadInto(op!, KEY, target), SIZE, 'opendal reader'),
      },
      candidate: warmHandleRead,
      peers: [copyFloor],
      target: { ratio: 10, text: '>= 10x faster' },
    });
  }
  if (wanted(secondOpendalReadFile)) {
    cases.push({
      id: secondOpendalReadFile,
      title: `second read of that object via ${backend.label} against OpenDAL (no cache), readFile`,
      baseline: { name: `${opendalName}.read (a new Buffer)`, skip: opendalSkip, run: async () => expectBytes((await op!.read(KEY)).length, SIZE, 'opendal read') },
      candidate: { name: 'stratafs readFile (memory tier)', before: warm, run: async () => expectBytes((await fs.readFile(path)).length, SIZE, 'readFile') },
      peers: [allocFloor],
      target: { ratio: 10, text: '>= 10x faster' },
      note: 'both sides return one new 64 MiB Buffer: the floor row bounds this ratio',
    });
  }
  return {
    cases,
    close: async () => {
      await connector.close?.();
      await fresh?.close();
      await fs.close();
    },
  };
}

/** Whole-object reads on S3. */
export const s3ObjectRead: CaseGroup = {
  name: 'a 64 MiB object on S3 (s3rver)',
  ids: ids('s3'),
  make: async (env: BenchEnv, wanted) => backendCases(env, await s3Backend(env), wanted),
};

/** Whole-object reads on Azure Blob. */
export const azureObjectRead: CaseGroup = {
  name: 'a 64 MiB blob on Azure (Azurite)',
  ids: ids('azure'),
  make: async (env: BenchEnv, wanted) => backendCases(env, await azureBackend(env), wanted),
};
