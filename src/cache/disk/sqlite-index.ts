/**
 * The index of a disk cache dir: one SQLite database (WAL mode, through `better-sqlite3`) shared
 * by every process that uses the dir. It records each page file (key, length, crc32, last
 * access, pinned) and each pending write of the journal, and keeps the byte counters that make
 * the capacity hold across processes: every reservation and its evictions happen inside one
 * `BEGIN IMMEDIATE` transaction, so two processes never both spend the same free bytes.
 *
 * Why SQLite: it is built for several processes on one host (file locks + WAL: readers never
 * wait for the writer, one writer at a time with a busy timeout), its transactions make
 * "evict, reserve, index" atomic, and it survives a process killed at any point.
 *
 * A missing, foreign or damaged database is recreated (under a lock file) and refilled from the
 * trailers of the page and journal files, so opening never fails because of the index.
 * @module
 */
import { closeSync, existsSync, openSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type Database from 'better-sqlite3';
import { StrataError } from '../../errors.js';
import { fileChecksumSync, JOURNAL_MAGIC, PAGE_MAGIC, readTrailerSync, type JournalFileMeta, type PageFileMeta } from './cache-file.js';
import { PRIVATE_FILE_MODE, unusableDir, withDirLock, type CacheDirLayout } from './disk-cache-dir.js';

/** Bumped when the tables change; an index of another version is recreated from the files. */
const SCHEMA_VERSION = 1;
/** How long a statement waits for another process's write transaction before failing with SQLITE_BUSY. */
export const BUSY_TIMEOUT_MS = 10_000;
/** Rows fetched per step while choosing eviction victims. */
const VICTIM_BATCH = 32;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS counters (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  used INTEGER NOT NULL, pages INTEGER NOT NULL, locked INTEGER NOT NULL
);
INSERT OR IGNORE INTO counters (id, used, pages, locked) VALUES (1, 0, 0, 0);
CREATE TABLE IF NOT EXISTS pages (
  key TEXT NOT NULL UNIQUE,
  object TEXT NOT NULL, version TEXT NOT NULL, page_size INTEGER NOT NULL, idx INTEGER NOT NULL,
  file TEXT NOT NULL, size INTEGER NOT NULL, crc INTEGER NOT NULL,
  atime INTEGER NOT NULL, pinned INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS pages_object ON pages (object, version);
CREATE INDEX IF NOT EXISTS pages_lru ON pages (pinned, atime);
CREATE INDEX IF NOT EXISTS pages_pinned ON pages (object, version) WHERE pinned = 1;
CREATE TABLE IF NOT EXISTS pins (object TEXT NOT NULL, prefix INTEGER NOT NULL, PRIMARY KEY (object, prefix)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS journal (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  id TEXT NOT NULL UNIQUE, cache_id TEXT NOT NULL, key TEXT NOT NULL,
  size INTEGER NOT NULL, mtime INTEGER NOT NULL, mode TEXT NOT NULL, file TEXT NOT NULL, crc INTEGER NOT NULL,
  owner TEXT, owner_pid INTEGER, lease_until INTEGER
);
CREATE INDEX IF NOT EXISTS journal_key ON journal (cache_id, key);
CREATE TRIGGER IF NOT EXISTS pages_ins AFTER INSERT ON pages BEGIN
  UPDATE counters SET used = used + NEW.size, pages = pages + 1, locked = locked + NEW.size * NEW.pinned WHERE id = 1;
END;
CREATE TRIGGER IF NOT EXISTS pages_del AFTER DELETE ON pages BEGIN
  UPDATE counters SET used = used - OLD.size, pages = pages - 1, locked = locked - OLD.size * OLD.pinned WHERE id = 1;
END;
CREATE TRIGGER IF NOT EXISTS pages_upd AFTER UPDATE OF size, pinned ON pages BEGIN
  UPDATE counters SET used = used - OLD.size + NEW.size, locked = locked - OLD.size * OLD.pinned + NEW.size * NEW.pinned WHERE id = 1;
END;
CREATE TRIGGER IF NOT EXISTS journal_ins AFTER INSERT ON journal BEGIN
  UPDATE counters SET used = used + NEW.size, locked = locked + NEW.size WHERE id = 1;
END;
CREATE TRIGGER IF NOT EXISTS journal_del AFTER DELETE ON journal BEGIN
  UPDATE counters SET used = used - OLD.size, locked = locked - OLD.size WHERE id = 1;
END;
`;

/** The byte counters of the whole dir (all processes). */
export interface IndexCounters {
  /** Bytes of pages + pending writes. */
  used: number;
  /** Number of pages. */
  pages: number;
  /** Bytes that may not be evicted: pinned pages + pending writes. */
  locked: number;
}

/**
 * Stores no process can read again (those of a process that has ended): their pages and pins are
 * dropped when the index is opened, for nothing would ever use or unpin them.
 */
export interface AbandonedStores {
  /** What the cache id of every such store starts with. */
  prefix: string;
  /** True when the store of `cacheId` (which starts with {@link prefix}) can never be read again. */
  test(cacheId: string): boolean;
}

/** A page chosen for eviction (already removed from the index inside the transaction). */
export interface Victim {
  key: string;
  file: string;
}

/** Thrown inside a transaction to roll it back when the bytes cannot be found. */
export class NoRoom extends Error {
  constructor() {
    super('no room in the disk cache');
  }
}

/** The index is damaged or not ours: recreate it. */
class BadIndex extends Error {}

/** True for errors that mean the database file is damaged or not an index of ours. */
function isCorruption(error: unknown): boolean {
  if (error instanceof BadIndex) return true;
  const code = (error as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' && (code.startsWith('SQLITE_CORRUPT') || code === 'SQLITE_NOTADB');
}

/** True for SQLITE_BUSY / SQLITE_LOCKED (another process held the lock past the busy timeout). */
export function isBusy(error: unknown): boolean {
  const code = (error as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' && (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED'));
}

type Db = Database.Database;
type DatabaseConstructor = new (file: string, options?: Database.Options) => Db;

async function loadSqlite(): Promise<DatabaseConstructor> {
  const mod = (await import('better-sqlite3')) as unknown as { default?: DatabaseConstructor } & DatabaseConstructor;
  return mod.default ?? mod;
}

/** The shared index of one disk cache dir. */
export class SqliteIndex {
  /** The connection (synchronous; every transaction runs without yielding to the event loop). */
  readonly db: Db;
  /** The dir layout. */
  readonly layout: CacheDirLayout;
  private readonly countersStmt: Database.Statement<[], IndexCounters>;
  private readonly victimsStmt: Database.Statement<[number], { key: string; file: string; size: number }>;
  private readonly deletePageStmt: Database.Statement<[string]>;
  private readonly pinMatchStmt: Database.Statement<[{ p: string }], { one: number }>;
  private readonly beginStmt: Database.Statement;
  private readonly commitStmt: Database.Statement;
  private readonly rollbackStmt: Database.Statement;
  private readonly dataVersionStmt: Database.Statement;
  private closed = false;

  private constructor(db: Db, layout: CacheDirLayout) {
    this.db = db;
    this.layout = layout;
    this.countersStmt = db.prepare('SELECT used, pages, locked FROM counters WHERE id = 1');
    this.dataVersionStmt = db.prepare('PRAGMA data_version').pluck();
    this.victimsStmt = db.prepare('SELECT key, file, size FROM pages WHERE pinned = 0 ORDER BY atime, rowid LIMIT ?');
    this.deletePageStmt = db.prepare('DELETE FROM pages WHERE key = ?');
    this.pinMatchStmt = db.prepare('SELECT 1 AS one FROM pins WHERE object = :p OR (prefix = 1 AND substr(:p, 1, length(object)) = object) LIMIT 1');
    this.beginStmt = db.prepare('BEGIN IMMEDIATE');
    this.commitStmt = db.prepare('COMMIT');
    this.rollbackStmt = db.prepare('ROLLBACK');
  }

  /**
   * Opens (creating, or recreating when damaged) the index of a prepared dir, then reconciles it
   * with the files on disk: rows whose file is gone are dropped; files without a row are
   * removed — or, when the index is new (it was missing or damaged), adopted from their
   * trailers: every journal file (no acknowledged write is forgotten) and the page files that fit.
   * The pages and pins of `abandoned` stores are dropped. Returns the index and the files of
   * pages evicted (to bring `used` under `capacity`, or abandoned).
   */
  static async open(layout: CacheDirLayout, capacity: number, abandoned?: AbandonedStores): Promise<{ index: SqliteIndex; evicted: Victim[] }> {
    const Sqlite = await loadSqlite();
    const attempt = (): { index: SqliteIndex; evicted: Victim[] } => {
      const db = openDatabase(Sqlite, layout);
      try {
        // Schema and reconciliation in one transaction: no other process may see a new, empty
        // index before the journal files it must adopt are recorded.
        db.prepare('BEGIN IMMEDIATE').run();
        const fresh = prepareSchema(db);
        const index = new SqliteIndex(db, layout);
        const evicted = index.reconcile(fresh, capacity, abandoned);
        db.prepare('COMMIT').run();
        return { index, evicted };
      } catch (error) {
        if (db.inTransaction) db.prepare('ROLLBACK').run();
        db.close();
        throw error;
      }
    };
    if (existsSync(layout.dbFile)) {
      try {
        return attempt();
      } catch (error) {
        if (!isCorruption(error)) throw mapOpenError(layout, error);
      }
    }
    return withDirLock(layout, () => {
      // Another process may have recreated it while this one waited for the lock.
      if (existsSync(layout.dbFile)) {
        try {
          return attempt();
        } catch (error) {
          if (!isCorruption(error)) throw mapOpenError(layout, error);
        }
      }
      for (const suffix of ['', '-wal', '-shm', '-journal']) rmSync(layout.dbFile + suffix, { force: true });
      try {
        return attempt();
      } catch (error) {
        throw mapOpenError(layout, error);
      }
    });
  }

  /** Runs `fn` inside `BEGIN IMMEDIATE` … `COMMIT` (rolled back when it throws). `fn` must not await. */
  transaction<T>(fn: () => T): T {
    this.beginStmt.run();
    let result: T;
    try {
      result = fn();
    } catch (error) {
      if (this.db.inTransaction) this.rollbackStmt.run();
      throw error;
    }
    try {
      this.commitStmt.run();
    } catch (error) {
      if (this.db.inTransaction) this.rollbackStmt.run();
      throw error;
    }
    return result;
  }

  /** Like {@link transaction}, with the commit fsynced (`synchronous = FULL`) before it returns. */
  durableTransaction<T>(fn: () => T): T {
    this.db.pragma('synchronous = FULL');
    try {
      return this.transaction(fn);
    } finally {
      this.db.pragma('synchronous = NORMAL');
    }
  }

  /** The dir's counters, as the last committed transaction left them. */
  counters(): IndexCounters {
    return this.countersStmt.get() ?? { used: 0, pages: 0, locked: 0 };
  }

  /** True when a pin rule covers `object` (inside or outside a transaction). */
  pinRuleMatches(object: string): boolean {
    return this.pinMatchStmt.get({ p: object }) !== undefined;
  }

  /**
   * Inside a transaction: evicts least recently used unpinned pages until `need` more bytes fit
   * in `capacity`. Returns the victims (their files are to be removed after the commit), or
   * `undefined` when even evicting every unpinned page would not make room (the caller rolls back).
   */
  makeRoom(need: number, capacity: number): Victim[] | undefined {
    const { used, locked } = this.counters();
    if (need > capacity || locked + need > capacity) return undefined;
    const excess = used + need - capacity;
    if (excess <= 0) return [];
    const { victims, freed } = this.evict(excess);
    return freed >= excess ? victims : undefined;
  }

  /**
   * Evicts least recently used unpinned pages holding at least `bytes` in a transaction of its
   * own, for a disk that filled up below the capacity. Returns the victims (their files are to be
   * removed), none when the index could not record it (busy, or full itself).
   */
  evictNow(bytes: number): Victim[] {
    try {
      return this.transaction(() => this.evict(bytes).victims);
    } catch (error) {
      if ((error as { code?: unknown }).code !== 'SQLITE_FULL') return [];
    }
    // The index cannot grow to record it on the full disk: remove the files first (a page whose
    // file is gone is dropped when read, and read again from the store), then their rows.
    const victims: Victim[] = [];
    let freed = 0;
    for (const row of this.victimsStmt.iterate(Number.MAX_SAFE_INTEGER)) {
      if (freed >= bytes) break;
      victims.push({ key: row.key, file: row.file });
      freed += row.size;
    }
    for (const victim of victims) rmSync(this.pagePath(victim.file), { force: true });
    try {
      this.transaction(() => victims.forEach((v) => this.deletePageStmt.run(v.key)));
    } catch {
      // still refused: each row is dropped when its page is read and found missing
    }
    return victims;
  }

  /**
   * Inside a transaction: evicts least recently used unpinned pages holding at least `bytes` in
   * all (every one when they hold less). Returns the victims (their files are to be removed after
   * the commit) and the bytes they held.
   */
  evict(bytes: number): { victims: Victim[]; freed: number } {
    const victims: Victim[] = [];
    let freed = 0;
    while (freed < bytes) {
      const rows = this.victimsStmt.all(VICTIM_BATCH);
      if (rows.length === 0) break;
      for (const row of rows) {
        this.deletePageStmt.run(row.key);
        victims.push({ key: row.key, file: row.file });
        freed += row.size;
        if (freed >= bytes) break;
      }
    }
    return { victims, freed };
  }

  /** Absolute path of a page file. */
  pagePath(file: string): string {
    return join(this.layout.pagesDir, file);
  }

  /** Absolute path of a journal data file. */
  journalPath(file: string): string {
    return join(this.layout.journalDir, file);
  }

  /**
   * SQLite's `data_version`: changes whenever another connection has committed to the index
   * since the last look (this connection's own commits leave it as it is).
   */
  dataVersion(): number {
    return this.dataVersionStmt.get() as number;
  }

  /** True once {@link close} ran. */
  get isClosed(): boolean {
    return this.closed;
  }

  /** Checkpoints the WAL when no one else is using it and closes the connection. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    try {
      this.db.pragma('wal_checkpoint(PASSIVE)');
    } catch {
      // Another process is busy with it: it will checkpoint.
    }
    this.db.close();
  }

  /** Inside the opening transaction (only there): brings the index and the files on disk into agreement. */
  private reconcile(fresh: boolean, capacity: number, abandoned?: AbandonedStores): Victim[] {
    this.reconcileJournal(fresh);
    const present = this.reconcilePages();
    const dropped = abandoned === undefined ? [] : this.dropAbandoned(abandoned);
    this.db.exec(`UPDATE counters SET
      used = (SELECT COALESCE(SUM(size), 0) FROM pages) + (SELECT COALESCE(SUM(size), 0) FROM journal),
      pages = (SELECT COUNT(*) FROM pages),
      locked = (SELECT COALESCE(SUM(size), 0) FROM pages WHERE pinned = 1) + (SELECT COALESCE(SUM(size), 0) FROM journal)
      WHERE id = 1`);
    // A page file without a row, while this transaction holds the write lock, is one another
    // process evicted and has not unlinked yet, or one a killed process renamed in without
    // committing: remove it. Only a new index (the old one was lost) adopts the page files.
    if (fresh) this.adoptPages(present, capacity);
    else for (const path of present.values()) rmSync(path, { force: true, recursive: true });
    return [...dropped, ...(this.makeRoom(0, capacity) ?? [])];
  }

  /** Drops the pages (returned: their files are to be removed) and the pins of abandoned stores. */
  private dropAbandoned(stores: AbandonedStores): Victim[] {
    const { prefix } = stores;
    const below = (from: string): [string, string] => [from, from.slice(0, -1) + String.fromCharCode(from.charCodeAt(from.length - 1) + 1)];
    const cacheIds = new Set<string>();
    const pageIds = this.db.prepare<[string, string], { id: string }>(
      'SELECT DISTINCT substr(object, 1, instr(object, char(10)) - 1) AS id FROM pages WHERE object >= ? AND object < ?',
    );
    for (const { id } of pageIds.all(...below(prefix))) cacheIds.add(id);
    const pins = this.db.prepare<[string, string], { object: string }>('SELECT object FROM pins WHERE object >= ? AND object < ?');
    for (const { object } of pins.all(...below(prefix))) cacheIds.add(object.slice(0, Math.max(0, object.indexOf('\n'))));
    const victims: Victim[] = [];
    const pagesOf = this.db.prepare<[string, string], Victim>('SELECT key, file FROM pages WHERE object >= ? AND object < ?');
    const dropPages = this.db.prepare<[string, string]>('DELETE FROM pages WHERE object >= ? AND object < ?');
    const dropPins = this.db.prepare<[string, string]>('DELETE FROM pins WHERE object >= ? AND object < ?');
    for (const id of cacheIds) {
      if (id === '' || !id.startsWith(prefix) || !stores.test(id)) continue;
      const range = below(`${id}\n`);
      victims.push(...pagesOf.all(...range));
      dropPages.run(...range);
      dropPins.run(...range);
    }
    return victims;
  }

  private reconcileJournal(fresh: boolean): void {
    const files = new Set(listFiles(this.layout.journalDir));
    const records = this.db.prepare<[], { id: string; file: string }>('SELECT id, file FROM journal').all();
    const drop = this.db.prepare('DELETE FROM journal WHERE id = ?');
    for (const record of records) {
      if (files.has(record.file)) files.delete(record.file);
      else drop.run(record.id);
    }
    // Files without a record: a stage killed before its commit (never acknowledged) — unless the
    // index itself was lost, in which case the file is the only record of an acknowledged write.
    const adopted: (JournalFileMeta & { file: string })[] = [];
    for (const file of files) {
      const path = this.journalPath(file);
      const meta = fresh ? readTrailerSync<JournalFileMeta>(path, JOURNAL_MAGIC) : undefined;
      if (meta !== undefined && validJournalMeta(meta) && fileChecksumSync(path, meta.size) === meta.crc) adopted.push({ ...meta, file });
      else rmSync(path, { force: true, recursive: true });
    }
    adopted.sort((a, b) => a.mtime - b.mtime || a.order - b.order);
    const insert = this.db.prepare(
      'INSERT OR IGNORE INTO journal (id, cache_id, key, size, mtime, mode, file, crc) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
    );
    for (const m of adopted) insert.run(m.id, m.cacheId, m.key, m.size, m.mtime, m.mode, m.file, m.crc);
  }

  /** Drops rows whose page file is gone; returns the page files on disk that have no row. */
  private reconcilePages(): Map<string, string> {
    const onDisk = new Map<string, string>();
    for (const fan of listFiles(this.layout.pagesDir)) {
      const dir = join(this.layout.pagesDir, fan);
      let names: string[];
      try {
        names = readdirSync(dir);
      } catch {
        rmSync(dir, { force: true, recursive: true });
        continue;
      }
      for (const name of names) onDisk.set(`${fan}/${name}`, join(dir, name));
    }
    const rows = this.db.prepare<[], { key: string; file: string }>('SELECT key, file FROM pages').all();
    const drop = this.db.prepare('DELETE FROM pages WHERE key = ?');
    for (const row of rows) {
      if (onDisk.has(row.file)) onDisk.delete(row.file);
      else drop.run(row.key);
    }
    return onDisk;
  }

  /** Indexes page files that have no row (while they fit), removes the rest. */
  private adoptPages(orphans: Map<string, string>, capacity: number): void {
    const exists = this.db.prepare<[string], { one: number }>('SELECT 1 AS one FROM pages WHERE key = ?');
    const insert = this.db.prepare(
      'INSERT INTO pages (key, object, version, page_size, idx, file, size, crc, atime, pinned) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
    );
    let { used } = this.counters();
    for (const [file, path] of orphans) {
      const meta = readTrailerSync<PageFileMeta>(path, PAGE_MAGIC);
      if (meta !== undefined && validPageMeta(meta) && used + meta.size <= capacity && exists.get(meta.key) === undefined) {
        let atime = Date.now();
        try {
          atime = Math.floor(statSync(path).mtimeMs);
        } catch {
          // keep now
        }
        insert.run(meta.key, meta.object, meta.version, meta.pageSize, meta.index, file, meta.size, meta.crc, atime, this.pinRuleMatches(meta.object) ? 1 : 0);
        used += meta.size;
      } else {
        rmSync(path, { force: true, recursive: true });
      }
    }
  }
}

function listFiles(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

function validPageMeta(m: PageFileMeta): boolean {
  return (
    typeof m.key === 'string' &&
    typeof m.object === 'string' &&
    typeof m.version === 'string' &&
    Number.isSafeInteger(m.pageSize) &&
    Number.isSafeInteger(m.index) &&
    Number.isSafeInteger(m.size) &&
    Number.isInteger(m.crc)
  );
}

function validJournalMeta(m: JournalFileMeta): boolean {
  return (
    typeof m.id === 'string' &&
    typeof m.cacheId === 'string' &&
    typeof m.key === 'string' &&
    (m.mode === 'ASYNC_THROUGH' || m.mode === 'MUST_CACHE') &&
    Number.isSafeInteger(m.size) &&
    Number.isFinite(m.mtime) &&
    Number.isInteger(m.crc) &&
    Number.isFinite(m.order)
  );
}

/** Opens the database file with the pragmas every connection uses, and checks it is sound. */
function openDatabase(Sqlite: DatabaseConstructor, layout: CacheDirLayout): Db {
  // Created owner-only before SQLite opens it (its -wal and -shm files take the same mode).
  closeSync(openSync(layout.dbFile, 'a', PRIVATE_FILE_MODE));
  const db = new Sqlite(layout.dbFile, { timeout: BUSY_TIMEOUT_MS });
  try {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    const check = db.pragma('quick_check', { simple: true });
    if (check !== 'ok') throw new BadIndex(`index check failed: ${String(check)}`);
    return db;
  } catch (error) {
    db.close();
    throw error;
  }
}

/** Inside a transaction: creates the tables when missing; true when this call created them (a new, empty index). */
function prepareSchema(db: Db): boolean {
  const tables = db.prepare<[], { name: string }>("SELECT name FROM sqlite_master WHERE type = 'table'").all().map((t) => t.name);
  let fresh = false;
  if (tables.includes('meta')) {
    const row = db.prepare<[], { value: unknown }>("SELECT value FROM meta WHERE name = 'schema'").get();
    if (row?.value !== SCHEMA_VERSION) throw new BadIndex('index of another version');
  } else if (tables.length > 0) {
    throw new BadIndex('not an index of a disk cache');
  } else {
    fresh = true;
  }
  db.exec(SCHEMA);
  if (fresh) db.prepare("INSERT INTO meta (name, value) VALUES ('schema', ?)").run(SCHEMA_VERSION);
  return fresh;
}

function mapOpenError(layout: CacheDirLayout, error: unknown): StrataError {
  if (error instanceof StrataError) return error;
  const code = (error as { code?: unknown } | undefined)?.code;
  if (code === 'SQLITE_CANTOPEN' || code === 'SQLITE_READONLY' || code === 'SQLITE_PERM' || code === 'SQLITE_AUTH' || code === 'EACCES') {
    return unusableDir('EACCES', layout.root, 'cannot open the index database', error);
  }
  return new StrataError('EIO', `disk cache index cannot be opened: ${(error as Error)?.message ?? String(error)}`, {
    path: layout.root,
    op: 'cache.disk',
    temporary: isBusy(error),
  });
}
