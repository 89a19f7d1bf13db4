/**
 * The durable write-back journal of a disk cache dir (`ASYNC_THROUGH` and `MUST_CACHE` writes).
 *
 * `stage` writes the data to a temp file and fsyncs it, then — in one `BEGIN IMMEDIATE`
 * transaction committed with `synchronous = FULL` — makes room (evicting unpinned pages; pending
 * writes are never evicted), renames the file into `journal/` and records it; then fsyncs the
 * directory and only then resolves. After a kill -9 at any point the next open sees every
 * acknowledged stage; an unacknowledged one leaves at most a temp file or an unrecorded data
 * file, both removed at the next open. Each data file also carries its record in a trailer,
 * so a lost or damaged index is rebuilt without forgetting a pending write.
 *
 * Uploaders in several processes coordinate through a lease in the index: `claim` records this
 * journal as the owner (pid + expiry); a claim whose owner process is gone or whose lease
 * expired can be taken over, so two processes never upload the same entry at once.
 * @module
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { renameSync, rmSync } from 'node:fs';
import { open, stat, type FileHandle } from 'node:fs/promises';
import { Readable } from 'node:stream';
import type Database from 'better-sqlite3';
import { StrataError, isAbortError, throwIfAborted, toStrataError } from '../../errors.js';
import type { ClaimOutcome, PendingWrite, WriteJournal } from '../disk-tier-types.js';
import { checksum, encodeTrailer, JOURNAL_MAGIC, rewriteTrailer, streamCacheFile, writeCacheFile, type JournalFileMeta } from './cache-file.js';
import { cacheDirFailure, fsyncDir, isProcessAlive, tempFile, unlinkQuietly, writeMakingRoom, type CacheDirLayout } from './disk-cache-dir.js';
import { isBusy, NoRoom, type SqliteIndex } from './sqlite-index.js';
import { signatureOf, VerifiedFiles } from './verified-files.js';

/** Tuning of a {@link SqliteWriteJournal}. */
export interface WriteJournalOptions {
  /**
   * Milliseconds a claim stays valid. Default 5 minutes. A claim is taken over sooner when its
   * owner process is gone; an owner uploading for longer renews it by calling `claim` again.
   */
  leaseMs?: number;
}

interface Row {
  seq: number;
  id: string;
  cache_id: string;
  key: string;
  size: number;
  mtime: number;
  mode: PendingWrite['mode'];
}

/** Who holds a pending write's claim, and until when. */
interface Lease {
  seq: number;
  owner: string | null;
  owner_pid: number | null;
  lease_until: number | null;
}

const COLUMNS = 'seq, id, cache_id, key, size, mtime, mode';
/** Bytes read at a time when a pending write's data is checked before a part of it is served. */
const VERIFY_CHUNK = 1024 * 1024;
let stageOrder = 0;

function toPending(row: Row): PendingWrite {
  return { id: row.id, cacheId: row.cache_id, key: row.key, size: row.size, mtime: new Date(row.mtime), mode: row.mode, seq: row.seq };
}

/** See the module comment. Create it with `openDiskCache`. */
export class SqliteWriteJournal implements WriteJournal {
  /** Who this journal is in claims: `pid:token` (unique per instance, even within one process). */
  readonly owner: string;
  /** Byte capacity of the dir, shared with the page tier. */
  readonly capacity: number;
  private readonly index: SqliteIndex;
  private readonly leaseMs: number;
  /** Data files whose crc32 this journal has checked, in the state it checked them. */
  private readonly verified = new VerifiedFiles(4096);
  /** Records of uploaded writes whose data is gone but whose removal the index refused (a full disk). */
  private readonly leftOver = new Set<string>();
  private readonly insertStmt: Database.Statement;
  private readonly findStmt: Database.Statement<[string, string], Row>;
  private readonly listAllStmt: Database.Statement<[], Row>;
  private readonly listStmt: Database.Statement<[string], Row>;
  private readonly fileStmt: Database.Statement<[string], { file: string; size: number; crc: number }>;
  private readonly leaseStmt: Database.Statement<[string], Lease & { cache_id: string; key: string }>;
  private readonly keyLeasesStmt: Database.Statement<[string, string], Lease & { id: string }>;
  private readonly belowLeasesStmt: Database.Statement<[{ cacheId: string; key: string }], Lease & { id: string }>;
  private readonly claimStmt: Database.Statement<[string, number, number, string]>;
  private readonly releaseStmt: Database.Statement<[string, string]>;
  private readonly renewStmt: Database.Statement<[number, string, string]>;
  private readonly deleteStmt: Database.Statement<[string]>;
  private readonly byKeyStmt: Database.Statement<[string, string], { id: string; file: string }>;
  private readonly rowStmt: Database.Statement<[string], Row & { file: string; crc: number }>;
  private readonly moveStmt: Database.Statement<[string, string, string]>;
  /** Records {@link dropLeftOver} removed: changes no caller of this journal made (see {@link changeMark}). */
  private selfDropped = 0;
  /** Bytes the stages of this journal that are writing their data hold (not in the index yet). */
  private staging = 0;
  /** Bytes those stages expect next (a step ahead of what they hold): room is made for them, they are not counted. */
  private stagingAhead = 0;

  /** Wraps an open index; `openDiskCache` is the usual way to get one. */
  constructor(index: SqliteIndex, capacity: number, options: WriteJournalOptions = {}) {
    this.index = index;
    this.capacity = capacity;
    this.leaseMs = options.leaseMs ?? 5 * 60_000;
    this.owner = `${process.pid}:${randomBytes(6).toString('hex')}`;
    const db = index.db;
    this.insertStmt = db.prepare('INSERT INTO journal (id, cache_id, key, size, mtime, mode, file, crc) VALUES (?, ?, ?, ?, ?, ?, ?, ?)');
    this.findStmt = db.prepare(`SELECT ${COLUMNS} FROM journal WHERE cache_id = ? AND key = ? ORDER BY seq DESC LIMIT 1`);
    this.listAllStmt = db.prepare(`SELECT ${COLUMNS} FROM journal ORDER BY seq`);
    this.listStmt = db.prepare(`SELECT ${COLUMNS} FROM journal WHERE cache_id = ? ORDER BY seq`);
    this.fileStmt = db.prepare('SELECT file, size, crc FROM journal WHERE id = ?');
    this.leaseStmt = db.prepare('SELECT seq, cache_id, key, owner, owner_pid, lease_until FROM journal WHERE id = ?');
    this.keyLeasesStmt = db.prepare('SELECT id, seq, owner, owner_pid, lease_until FROM journal WHERE cache_id = ? AND key = ?');
    // The key and the keys below it ('/' sorts just before '0'); every key below the root ('').
    this.belowLeasesStmt = db.prepare(
      "SELECT id, seq, owner, owner_pid, lease_until FROM journal WHERE cache_id = @cacheId AND (@key = '' OR key = @key OR (key >= @key || '/' AND key < @key || '0'))",
    );
    this.claimStmt = db.prepare('UPDATE journal SET owner = ?, owner_pid = ?, lease_until = ? WHERE id = ?');
    this.releaseStmt = db.prepare('UPDATE journal SET owner = NULL, owner_pid = NULL, lease_until = NULL WHERE id = ? AND owner = ?');
    this.renewStmt = db.prepare('UPDATE journal SET lease_until = ? WHERE id = ? AND owner = ?');
    this.deleteStmt = db.prepare('DELETE FROM journal WHERE id = ?');
    this.byKeyStmt = db.prepare('SELECT id, file FROM journal WHERE cache_id = ? AND key = ?');
    this.rowStmt = db.prepare(`SELECT ${COLUMNS}, file, crc FROM journal WHERE id = ?`);
    this.moveStmt = db.prepare('UPDATE journal SET cache_id = ?, key = ? WHERE id = ?');
  }

  /**
   * Stores the data and its record durably (both fsynced) and resolves only then. The data is a
   * Buffer, or a stream written to disk as it comes (never held in memory whole). Counts against
   * the dir's capacity and is never evicted; unpinned pages are evicted to make room, before the
   * data is written, so the dir does not hold both. `ENOSPC`, before the data is written (for a
   * stream: as soon as what came so far does not fit), when it cannot fit even so beside the
   * pending writes and the other stages of this journal on their way; `EIO` when the disk or
   * the index fails. An error of the stream, or an abort of `signal`, ends the stage with that
   * error and leaves nothing behind.
   */
  async stage(cacheId: string, key: string, data: Buffer | AsyncIterable<Uint8Array>, mode: PendingWrite['mode'], signal?: AbortSignal): Promise<PendingWrite> {
    this.assertOpen('write');
    if (mode !== 'ASYNC_THROUGH' && mode !== 'MUST_CACHE') throw new StrataError('EINVAL', `unknown journal mode ${String(mode)}`, { op: 'write' });
    const id = randomUUID();
    const mtime = Date.now();
    const order = stageOrder++;
    const trailerOf = (size: number, crc: number): Buffer => encodeTrailer({ id, cacheId, key, size, mtime, mode, crc, order }, JOURNAL_MAGIC);
    const room = new StageRoom(this, signal);
    const tmp = tempFile(this.index.layout);
    try {
      let written: { size: number; crc: number };
      try {
        if (Buffer.isBuffer(data)) {
          await room.reserveUpTo(data.length, false);
          const crc = checksum(data);
          await writeMakingRoom(tmp, data.length, () => writeCacheFile(tmp, data, trailerOf(data.length, crc), true), async (bytes) => {
            const victims = this.index.evictNow(bytes);
            await unlinkQuietly(victims.map((v) => this.index.pagePath(v.file)));
            return victims.length > 0;
          });
          written = { size: data.length, crc };
        } else {
          written = await streamCacheFile(tmp, room.counting(data), trailerOf, true);
        }
      } catch (error) {
        await unlinkQuietly([tmp]);
        // The stream's own errors are StrataErrors by now (see StageRoom.counting): what is left failed in the cache dir.
        throw isAbortError(error) ? error : cacheDirFailure(error, this.index.layout, 'write');
      }
      return await this.record(tmp, { id, cacheId, key, size: written.size, mtime, mode, crc: written.crc, order });
    } finally {
      room.release();
    }
  }

  /**
   * Counts `bytes` more of a stage on its way against the capacity (`ENOSPC` when they do not fit
   * beside the pending writes and the bytes the other stages hold so far); `ahead` changes the
   * bytes the stage expects next. With `evict`, evicts unpinned pages to make room for all that
   * the stages on their way hold and expect (best effort: the stage's own transaction makes room
   * again). What a stage expects is never counted against another one: only what it holds is.
   * Used by {@link StageRoom}.
   */
  async reserve(bytes: number, ahead: number, stageTotal: number, evict: boolean): Promise<void> {
    const { locked } = this.index.counters();
    if (stageTotal > this.capacity || locked + this.staging + bytes > this.capacity) throw noSpace(stageTotal, this.capacity);
    this.staging += bytes;
    this.stagingAhead += ahead;
    if (!evict) return;
    let victims;
    try {
      const room = Math.min(this.staging + this.stagingAhead, this.capacity - locked);
      victims = this.index.transaction(() => this.index.makeRoom(room, this.capacity) ?? []);
    } catch {
      return;
    }
    await unlinkQuietly(victims.map((v) => this.index.pagePath(v.file)));
  }

  /** Gives back what {@link reserve} counted once its stage has ended. */
  unreserve(bytes: number, ahead: number): void {
    this.staging -= bytes;
    this.stagingAhead -= ahead;
  }

  /** Renames the written data file into `journal/` and records it, in one durable transaction. */
  private async record(tmp: string, meta: JournalFileMeta): Promise<PendingWrite> {
    const { id, cacheId, key, size, mtime, mode } = meta;
    this.assertOpen('write');
    const path = this.index.journalPath(id);
    let victims;
    let seq = 0;
    try {
      victims = this.index.durableTransaction(() => {
        const room = this.index.makeRoom(size, this.capacity);
        if (room === undefined) throw new NoRoom();
        renameSync(tmp, path);
        try {
          seq = Number(this.insertStmt.run(id, cacheId, key, size, mtime, mode, id, meta.crc).lastInsertRowid);
        } catch (error) {
          rmSync(path, { force: true });
          throw error;
        }
        return room;
      });
    } catch (error) {
      await unlinkQuietly([tmp]);
      if (error instanceof NoRoom) throw noSpace(size, this.capacity);
      throw isSqliteError(error) ? indexError(error, 'write', this.index.layout) : cacheDirFailure(error, this.index.layout, 'write'); // the rename failed
    }
    await fsyncDir(this.index.layout.journalDir).catch((error: unknown) => {
      throw cacheDirFailure(error, this.index.layout, 'write');
    });
    await unlinkQuietly(victims.map((v) => this.index.pagePath(v.file)));
    return { id, cacheId, key, size, mtime: new Date(mtime), mode, seq };
  }

  /** The newest pending write of that key, if any. */
  find(cacheId: string, key: string): PendingWrite | undefined {
    if (this.index.isClosed) return undefined;
    const row = this.findStmt.get(cacheId, key);
    return row === undefined ? undefined : toPending(row);
  }

  /**
   * Changes when another connection to the index (another process, or another open of the dir
   * in this one) commits, and when this journal drops records by itself (see {@link list});
   * `undefined` once closed or when the index cannot tell.
   */
  changeMark(): number | undefined {
    if (this.index.isClosed) return undefined;
    try {
      return this.index.dataVersion() + this.selfDropped;
    } catch {
      return undefined;
    }
  }

  /** Every pending write (of one cache id when given), oldest first. */
  list(cacheId?: string): PendingWrite[] {
    if (this.index.isClosed) return [];
    this.dropLeftOver();
    return (cacheId === undefined ? this.listAllStmt.all() : this.listStmt.all(cacheId)).map(toPending);
  }

  /**
   * Reads `length` bytes at `offset` of a pending write's data (fewer at its end). The data is
   * checked against its crc32 before any of it is served: once per state of its file in this
   * journal, or by this read when it reads the whole data (`EIO` when damaged). `ENOENT` when
   * the write is no longer pending.
   */
  async read(id: string, offset: number, length: number): Promise<Buffer> {
    this.assertOpen('read');
    const row = this.fileStmt.get(id);
    if (row === undefined) throw new StrataError('ENOENT', 'pending write not found', { op: 'read' });
    const start = Math.min(Math.max(0, offset), row.size);
    const n = Math.max(0, Math.min(length, row.size - start));
    const whole = start === 0 && n === row.size;
    const buffer = Buffer.allocUnsafe(n);
    let handle;
    try {
      handle = await open(this.index.journalPath(row.file), 'r');
      const signature = signatureOf(await handle.stat());
      if (!whole && !this.verified.has(row.file, signature)) await verifyData(handle, row);
      await readFully(handle, buffer, start);
      if (whole && checksum(buffer) !== row.crc) throw damaged();
      this.verified.remember(row.file, signature);
    } catch (error) {
      throw await this.readError(error, id);
    } finally {
      await handle?.close();
    }
    return buffer;
  }

  /**
   * A pending write's whole data as a stream, read 1 MiB at a time and checked against its crc32
   * on the way: when it is damaged the stream fails with `EIO` before its last chunk, so a
   * consumer that stores what it reads (an upload) never completes with damaged data. `ENOENT`
   * when the write is no longer pending.
   */
  async readStream(id: string): Promise<Readable> {
    this.assertOpen('read');
    const row = this.fileStmt.get(id);
    if (row === undefined) throw new StrataError('ENOENT', 'pending write not found', { op: 'read' });
    let handle;
    try {
      handle = await open(this.index.journalPath(row.file), 'r');
    } catch (error) {
      throw await this.readError(error, id);
    }
    const stream = Readable.from(verifiedChunks(handle, row), { objectMode: false });
    // A stream destroyed before its first read never runs the generator's own close: the file is closed with the stream.
    stream.once('close', () => void handle.close().catch(() => undefined));
    return stream;
  }

  /**
   * Claims a pending write for upload by this journal, in one transaction with the other writes
   * of its key, so that two owners never upload two versions of one file at once (the older one
   * could land last): see {@link ClaimOutcome}. A claim is live while its owner process exists
   * and its lease has not expired; claiming again renews it. `'held'` when the index is busy or closed.
   */
  claim(id: string): ClaimOutcome {
    if (this.index.isClosed) return 'held';
    try {
      return this.index.transaction(() => {
        const row = this.leaseStmt.get(id);
        if (row === undefined) return 'gone';
        const now = Date.now();
        if (this.heldByOther(row, now)) return 'held';
        const others = this.keyLeasesStmt.all(row.cache_id, row.key).filter((r) => r.seq !== row.seq);
        if (others.some((r) => r.seq > row.seq)) return 'superseded';
        if (others.some((r) => this.heldByOther(r, now))) return 'waiting';
        this.claimStmt.run(this.owner, process.pid, now + this.leaseMs, id);
        return 'claimed';
      });
    } catch {
      return 'held';
    }
  }

  /**
   * Claims every pending write of a key at once, for a change of the file made in the store
   * itself (which drops them): their ids, or `undefined` while another owner holds one (its
   * upload must land before the change). `[]` when the index is closed or fails (nothing is held).
   * With `below`, the pending writes of the keys below `key` (a directory) too.
   */
  claimKey(cacheId: string, key: string, below = false): string[] | undefined {
    if (this.index.isClosed) return [];
    const leases = (): (Lease & { id: string })[] => (below ? this.belowLeasesStmt.all({ cacheId, key }) : this.keyLeasesStmt.all(cacheId, key));
    try {
      // Most files have no pending write: no write transaction for them.
      if (leases().length === 0) return [];
      return this.index.transaction(() => {
        const rows = leases();
        const now = Date.now();
        if (rows.some((r) => this.heldByOther(r, now))) return undefined;
        for (const r of rows) this.claimStmt.run(this.owner, process.pid, now + this.leaseMs, r.id);
        return rows.map((r) => r.id);
      });
    } catch {
      return [];
    }
  }

  /** True when another owner holds a live claim on the write (its process exists and its lease has not expired). */
  private heldByOther(lease: Lease, now: number): boolean {
    return lease.owner !== null && lease.owner !== this.owner && (lease.lease_until ?? 0) > now && isProcessAlive(lease.owner_pid ?? 0);
  }

  /**
   * Keeps this journal's claim on a pending write live while its upload runs, however long that
   * takes: its lease is renewed every third of the lease. Stop it with the returned function.
   */
  holdClaim(id: string): () => void {
    const renew = (): void => {
      if (this.index.isClosed) return;
      try {
        this.renewStmt.run(Date.now() + this.leaseMs, id, this.owner);
      } catch {
        // busy: renewed at the next tick, well before the lease runs out
      }
    };
    const timer = setInterval(renew, Math.max(1, Math.floor(this.leaseMs / 3)));
    timer.unref();
    return () => clearInterval(timer);
  }

  /** Releases this journal's claim without completing (the upload failed; another try later). */
  release(id: string): void {
    if (this.index.isClosed) return;
    try {
      this.releaseStmt.run(id, this.owner);
    } catch {
      // busy: the lease expires by itself
    }
  }

  /**
   * Removes the record and its data once the store has it. Newer writes of the same key stay.
   * Quiet once the journal is closed, even when that happens meanwhile (the next open finishes it).
   */
  async complete(id: string): Promise<void> {
    if (this.index.isClosed) return;
    const row = this.fileStmt.get(id);
    if (row === undefined) return;
    // The data first: a crash in between leaves a record without data, dropped at the next
    // open, never data without a record that a rebuilt index could upload again.
    await unlinkQuietly([this.index.journalPath(row.file)]);
    this.verified.forget(row.file);
    if (this.index.isClosed) return; // closed meanwhile: the next open drops the record, its data being gone
    try {
      this.deleteStmt.run(id);
    } catch (error) {
      this.leftOver.add(id); // its data is gone: the record goes as soon as the index takes it
      throw indexError(error, 'write', this.index.layout);
    }
  }

  /** Removes the records {@link complete} could not remove (a full disk), once the index takes it. */
  private dropLeftOver(): void {
    for (const id of this.leftOver) {
      try {
        this.deleteStmt.run(id);
      } catch {
        return;
      }
      this.leftOver.delete(id);
      this.selfDropped++;
    }
  }

  /**
   * Gives a pending write another key (of the same or another cache id), in one durable
   * transaction that also drops the other pending writes of its old key and of the new one (it
   * replaces them): a crash leaves it under one name, never both, and its data is not copied.
   * Its file's trailer is then rewritten with the new key, for an index rebuilt from the files.
   * `ENOENT` when the write is no longer pending.
   */
  async move(id: string, cacheId: string, key: string): Promise<PendingWrite> {
    this.assertOpen('write');
    const found = this.rowStmt.get(id);
    if (found === undefined) throw new StrataError('ENOENT', 'pending write not found', { op: 'write' });
    // A write whose data is gone (its dir removed) is not moved: it fails as a read of it would.
    await stat(this.index.journalPath(found.file)).catch(async (error: unknown) => {
      throw await this.readError(error, id);
    });
    let moved!: Row & { file: string; crc: number };
    let dropped: { id: string; file: string }[] = [];
    try {
      this.index.durableTransaction(() => {
        const row = this.rowStmt.get(id);
        if (row === undefined) throw new StrataError('ENOENT', 'pending write not found', { op: 'write' });
        dropped = [...this.byKeyStmt.all(row.cache_id, row.key), ...this.byKeyStmt.all(cacheId, key)].filter((r) => r.id !== id);
        for (const r of dropped) this.deleteStmt.run(r.id);
        this.moveStmt.run(cacheId, key, id);
        moved = row;
      });
    } catch (error) {
      throw indexError(error, 'write', this.index.layout);
    }
    await unlinkQuietly(dropped.map((r) => this.index.journalPath(r.file)));
    for (const r of dropped) this.verified.forget(r.file);
    const meta: JournalFileMeta = { id, cacheId, key, size: moved.size, mtime: moved.mtime, mode: moved.mode, crc: moved.crc, order: 0 };
    // Best effort: the index already has the move; only a rebuild of a lost index reads the trailer.
    await rewriteTrailer(this.index.journalPath(moved.file), moved.size, encodeTrailer(meta, JOURNAL_MAGIC)).catch(() => undefined);
    return toPending({ ...moved, cache_id: cacheId, key });
  }

  /** Drops every pending write of a key (it was deleted or overwritten through the store). */
  async discard(cacheId: string, key: string): Promise<void> {
    if (this.index.isClosed) return;
    const rows = this.byKeyStmt.all(cacheId, key);
    if (rows.length === 0) return;
    await unlinkQuietly(rows.map((r) => this.index.journalPath(r.file)));
    for (const r of rows) this.verified.forget(r.file);
    if (this.index.isClosed) return; // closed meanwhile: the next open drops the records, their data being gone
    this.run(() => this.index.transaction(() => rows.forEach((r) => this.deleteStmt.run(r.id))), 'write');
  }

  /**
   * A failed read of a pending write's data: `ENOENT` when the write is no longer pending (uploaded
   * or replaced meanwhile); `EIO` naming the dir when its data is gone with the cache dir (the
   * dir was removed while in use): that write cannot be read, nor uploaded, any more.
   */
  private async readError(error: unknown, id: string): Promise<StrataError> {
    if ((error as { code?: unknown }).code !== 'ENOENT') return toStrataError(error, { op: 'read' });
    const dirGone = await stat(this.index.layout.journalDir).then(
      (info) => !info.isDirectory(),
      () => true,
    );
    const stillPending = !this.index.isClosed && this.fileStmt.get(id) !== undefined;
    if (dirGone && stillPending) return cacheDirFailure(error, this.index.layout, 'read');
    return toStrataError(error, { op: 'read' });
  }

  private run(fn: () => unknown, op: string): void {
    try {
      fn();
    } catch (error) {
      throw indexError(error, op, this.index.layout);
    }
  }

  private assertOpen(op: string): void {
    if (this.index.isClosed) throw new StrataError('EIO', 'disk cache is closed', { op });
  }
}

/** Fills `buffer` from `position` of the file (`EIO` when the file ends first). */
async function readFully(handle: FileHandle, buffer: Buffer, position: number): Promise<void> {
  for (let done = 0; done < buffer.length; ) {
    const { bytesRead } = await handle.read(buffer, done, buffer.length - done, position + done);
    if (bytesRead === 0) throw new StrataError('EIO', 'pending write data is truncated', { op: 'read' });
    done += bytesRead;
  }
}

/** Checks a pending write's whole data against its crc32, 1 MiB at a time (`EIO` when damaged). */
async function verifyData(handle: FileHandle, row: { size: number; crc: number }): Promise<void> {
  const chunk = Buffer.allocUnsafe(Math.min(row.size, VERIFY_CHUNK));
  let crc = 0;
  for (let position = 0; position < row.size; position += chunk.length) {
    const part = chunk.subarray(0, Math.min(chunk.length, row.size - position));
    await readFully(handle, part, position);
    crc = checksum(part, crc);
  }
  if (crc !== row.crc) throw damaged();
}

/** The data of a journal file, chunk by chunk, the last one held back until the crc32 of all of it is checked; closes the file. */
async function* verifiedChunks(handle: FileHandle, row: { size: number; crc: number }): AsyncGenerator<Buffer> {
  try {
    let crc = 0;
    let held: Buffer | undefined;
    for (let position = 0; position < row.size; ) {
      const chunk = Buffer.allocUnsafe(Math.min(VERIFY_CHUNK, row.size - position));
      await readFully(handle, chunk, position);
      crc = checksum(chunk, crc);
      position += chunk.length;
      if (held) yield held;
      held = chunk;
    }
    if (crc !== row.crc) throw damaged();
    if (held) yield held;
  } catch (error) {
    throw toStrataError(error, { op: 'read' });
  } finally {
    await handle.close();
  }
}

function damaged(): StrataError {
  return new StrataError('EIO', 'pending write data is damaged', { op: 'read' });
}

function noSpace(size: number, capacity: number): StrataError {
  return new StrataError('ENOSPC', `no space left in the disk cache for ${size} bytes that may not be evicted (capacity ${capacity})`, { op: 'write' });
}

/** True for an error of the SQLite index (not of a file in the dir). */
function isSqliteError(error: unknown): boolean {
  const code = (error as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' && code.startsWith('SQLITE');
}

/** The error of a failed index update: `ENOSPC` naming the dir when the index could not grow on a full disk, else `EIO`. */
function indexError(error: unknown, op: string, layout: CacheDirLayout): StrataError {
  if (error instanceof StrataError) return error;
  if ((error as { code?: unknown } | undefined)?.code === 'SQLITE_FULL') return cacheDirFailure(error, layout, op);
  return new StrataError('EIO', `disk cache index failed: ${(error as Error)?.message ?? String(error)}`, { op, temporary: isBusy(error) });
}

/** Bytes a stage of a stream makes room for at a time (evicting pages once a step, not once a chunk). */
const RESERVE_STEP = 4 * 1024 * 1024;

/** The bytes one stage has counted against its journal's capacity (see {@link SqliteWriteJournal.reserve}). */
class StageRoom {
  /** Bytes counted: what the stage holds so far. */
  #counted = 0;
  /** Bytes expected beyond {@link #counted} that room was made for (the rest of a step, for a stream). */
  #ahead = 0;

  constructor(
    private readonly journal: SqliteWriteJournal,
    private readonly signal: AbortSignal | undefined,
  ) {}

  /**
   * Counts the stage up to `total` bytes; with `ahead` (a stream) room is made a step ahead, once
   * a step (only the bytes that came are counted, so other stages are not refused for bytes that
   * may never come).
   */
  async reserveUpTo(total: number, ahead = true): Promise<void> {
    if (total <= this.#counted) return;
    const need = total - this.#counted;
    const newStep = total > this.#counted + this.#ahead;
    const roomTo = !newStep ? this.#counted + this.#ahead : ahead ? Math.max(total, Math.min(this.journal.capacity, this.#counted + RESERVE_STEP)) : total;
    // What came is counted and no longer expected; past the room made, a new step is expected.
    const aheadNow = roomTo - total;
    await this.journal.reserve(need, aheadNow - this.#ahead, total, newStep);
    this.#counted = total;
    this.#ahead = aheadNow;
  }

  /**
   * The chunks of `source`, each counted before it is handed on; stops at an abort of the signal.
   * An error of the source is thrown as a `StrataError` of its own (never taken for a failure of
   * the cache dir).
   */
  async *counting(source: AsyncIterable<Uint8Array>): AsyncIterable<Uint8Array> {
    const chunks = source[Symbol.asyncIterator]();
    let done = false;
    try {
      for (let total = 0; ; ) {
        throwIfAborted(this.signal);
        let next: IteratorResult<Uint8Array>;
        try {
          next = await chunks.next();
        } catch (error) {
          done = true; // the source ended with its error
          throw isAbortError(error) ? error : toStrataError(error, { op: 'write' });
        }
        if (next.done) {
          done = true;
          break;
        }
        total += next.value.length;
        await this.reserveUpTo(total);
        yield next.value;
      }
      throwIfAborted(this.signal);
    } finally {
      if (!done) await chunks.return?.(); // given up before its end: the source is closed
    }
  }

  /** Gives back everything counted (the stage ended: recorded, or failed). */
  release(): void {
    this.journal.unreserve(this.#counted, this.#ahead);
    this.#counted = 0;
    this.#ahead = 0;
  }
}
