/**
 * The transportable-tablespace export, a {@link Source}: on a {@link LockSession},
 * `FLUSH TABLES t1, ..., tn FOR EXPORT`, then the `.ibd` and `.cfg` of every
 * table streamed out of the data directory as {@link FileEntry} records, then
 * `UNLOCK TABLES`. Any sink (a backup directory, an image, stdout) consumes the
 * entries. Tables are unlocked on every path: the end of the entries, an SQL or
 * I/O error, a consumer that stops early, the abort signal, or
 * {@link TtsExport.close}. A lost connection fails the export (the server dropped
 * the lock, so the copy may be inconsistent).
 */
import { open, stat } from "node:fs/promises";
import type { Connection } from "mysql2/promise";
import type { FileEntry } from "../entry.ts";
import type { Source } from "../source.ts";
import {
  buildManifest,
  type DatabaseRecord,
  type Manifest,
  type ServerFacts,
  type TableRecord,
} from "../core/manifest.ts";
import type { SeenEntry } from "../core/completeness.ts";
import { tableLabel } from "../core/label.ts";
import { Crc32c } from "../core/crc.ts";
import { encodeFilename } from "../names/filename.ts";
import { quoteIdentifier, quoteTable } from "../names/quote.ts";
import { IoError, ServerError } from "../errors.ts";
import type { PageCheck } from "../innodb/page_stream.ts";
import { queryRows } from "./facts.ts";
import { lockOnlyTable, permissionError, type SelectedTable } from "./tables.ts";
import { type LockListener, LockSession, type LockStats } from "./lock_session.ts";
import { sameDefinition } from "./lock_wait.ts";

/** How to run an export. */
export interface ExportOptions {
  /** The connection that takes the locks; nothing else may use it meanwhile. */
  conn: Connection;
  /** Facts of the server (`datadir` is where the files are read). */
  facts: ServerFacts;
  /** The tables to export (from `selectTables`). */
  tables: SelectedTable[];
  /** Lock, copy and unlock one table at a time instead of all at once. */
  lockPerTable?: boolean;
  /** Seconds each FLUSH ... FOR EXPORT may wait (session lock_wait_timeout; default: the server's). */
  lockWaitTimeout?: number;
  /** Stops the export and unlocks at once when aborted. */
  signal?: AbortSignal;
  /** Page checker applied to every `.ibd` entry (none: pages are not checked). */
  checkPages?: PageCheck;
  /** Compute each entry's CRC-32C into {@link TtsExport.seen} (default true). */
  crc?: boolean;
  /** Bytes per read (default 1 MiB; a multiple of every page size). */
  chunkSize?: number;
  /** What the manifest records as the options the backup was taken with. */
  recordedOptions?: Record<string, unknown>;
  /** Called with the running count of bytes read and the entry path being read. */
  onProgress?: (bytes: number, path: string) => void;
  /** Called on each lock and unlock, with the tables concerned and the lock's duration. */
  onLock?: LockListener;
  /**
   * Tables locked with the TTS ones but not copied as files (whole-database
   * backups read their rows logically in `atLock`, under the same lock).
   */
  alsoLock?: { database: string; name: string }[];
  /**
   * Run on the locked connection once the tables are locked at open, before any
   * file is read (with `lockPerTable`: under a lock of `alsoLock` alone).
   */
  atLock?: (conn: Connection) => Promise<void>;
}

/** A running export; see the module documentation. */
export interface TtsExport extends Source {
  /** The tables with their CREATE statements and file paths, known when the export opens. */
  readonly tables: TableRecord[];
  /** The databases of those tables with their CREATE statements. */
  readonly databases: DatabaseRecord[];
  /** Sum of the sizes of the files to copy, as known at open (exact when locked at open). */
  readonly totalBytes: number;
  /** True once every entry was read and every UNLOCK TABLES succeeded. */
  readonly completed: boolean;
  /** Lock durations so far. */
  lockStats(): LockStats;
}

const DEFAULT_CHUNK = 1 << 20;

/** `SHOW CREATE TABLE` of one table. */
export async function showCreateTable(
  conn: Connection,
  db: string,
  table: string,
): Promise<string> {
  const rows = await queryRows<Record<string, string>>(
    conn,
    `SHOW CREATE TABLE ${quoteTable(db, table)}`,
  );
  return String(rows[0]?.["Create Table"] ?? "");
}

/**
 * `SHOW CREATE TABLE` of a table that may not be there: undefined when the server
 * has no such table or database (or an empty definition), other errors thrown.
 */
export async function showCreateTableIfAny(
  conn: Connection,
  db: string,
  table: string,
): Promise<string | undefined> {
  try {
    return (await showCreateTable(conn, db, table)) || undefined;
  } catch (e) {
    // The server's error code (on the cause of the ServerError): the table is not there.
    const code = (e as { cause?: { code?: string } }).cause?.code;
    if (code === "ER_NO_SUCH_TABLE" || code === "ER_BAD_DB_ERROR") return undefined;
    throw e;
  }
}

/** `SHOW CREATE DATABASE` of one database. */
export async function showCreateDatabase(conn: Connection, db: string): Promise<string> {
  const rows = await queryRows<Record<string, string>>(
    conn,
    `SHOW CREATE DATABASE ${quoteIdentifier(db)}`,
  );
  return String(rows[0]?.["Create Database"] ?? "");
}

/** Entry paths of a table's files: for each tablespace its `.ibd` then its `.cfg`. */
export function tableEntryPaths(t: SelectedTable): string[] {
  return t.stems.flatMap((s) => [`${s}.ibd`, `${s}.cfg`]);
}

/**
 * Open an export. Without `lockPerTable` the selected tables are locked when this
 * resolves (so their CREATE statements and file sizes match the files); with it,
 * CREATE statements are read now and checked again under each table's lock. Call
 * {@link TtsExport.close} in a `finally`, whatever happens.
 */
export async function openTtsExport(opts: ExportOptions): Promise<TtsExport> {
  const session = new LockSession(opts.conn, opts.facts, {
    signal: opts.signal,
    onLock: opts.onLock,
    lockWaitTimeout: opts.lockWaitTimeout,
  });
  const run = new ExportRun(session, opts);
  try {
    await run.prepare();
  } catch (err) {
    await session.close();
    // After an abort, what failed in its wake (a dropped FLUSH) is not the story.
    if (opts.signal?.aborted) throw opts.signal.reason;
    throw err;
  }
  return run.source();
}

/** One export: what it read at open, and the entry generator. */
class ExportRun {
  readonly creates = new Map<SelectedTable, string>();
  readonly sizes = new Map<string, number>();
  readonly seen = new Map<string, SeenEntry>();
  /** Entries handed out whose data was not read to the end. */
  readonly unread = new Set<string>();
  tables: TableRecord[] = [];
  databases: DatabaseRecord[] = [];
  completed = false;
  bytes = 0;
  readonly datadir: string;

  constructor(readonly session: LockSession, readonly opts: ExportOptions) {
    this.datadir = opts.facts.datadir;
  }

  /** Throw if the export must stop (abort, lost lock, closed before the end). */
  check(): void {
    this.session.check();
    if (this.session.closed && !this.completed) {
      throw new ServerError("export stopped: tables were unlocked");
    }
  }

  /** Lock (unless per table), read CREATE statements and file sizes. */
  async prepare(): Promise<void> {
    const { opts, session } = this;
    const conn = opts.conn;
    const extra = (opts.alsoLock ?? []).map(lockOnlyTable);
    const all = [...opts.tables, ...extra];
    if (!opts.lockPerTable && all.length > 0) await session.lock(all);
    for (const t of opts.tables) {
      this.creates.set(t, await showCreateTable(conn, t.database, t.name));
    }
    if (opts.atLock && opts.lockPerTable && extra.length > 0) {
      await session.lock(extra);
      await opts.atLock(conn);
      await session.unlock();
    } else if (opts.atLock) await opts.atLock(conn);
    for (const db of [...new Set(opts.tables.map((t) => t.database))]) {
      this.databases.push({
        name: db,
        dir: encodeFilename(db),
        createStatement: await showCreateDatabase(conn, db),
      });
    }
    await this.statFiles(opts.tables, !opts.lockPerTable);
    this.tables = opts.tables.map((t) => {
      const rec: TableRecord = {
        database: t.database,
        name: t.name,
        engine: t.engine,
        createStatement: this.creates.get(t)!,
        files: tableEntryPaths(t),
      };
      if (t.rowFormat) rec.rowFormat = t.rowFormat;
      return rec;
    });
    this.check();
  }

  async statFiles(tables: SelectedTable[], withCfg: boolean): Promise<void> {
    for (const t of tables) {
      for (const p of withCfg ? tableEntryPaths(t) : t.stems.map((s) => `${s}.ibd`)) {
        this.sizes.set(p, await fileSize(`${this.datadir}/${p}`, this.datadir));
      }
    }
  }

  /** The export as a source. */
  source(): TtsExport {
    const completed = () => this.completed;
    const totalBytes = () => {
      let n = 0;
      for (const [p, s] of this.sizes) if (p.endsWith(".ibd")) n += s;
      return n;
    };
    const manifest: Manifest = buildManifest({
      server: this.opts.facts,
      options: this.opts.recordedOptions ?? {},
      databases: this.databases,
      tables: this.tables,
    });
    return {
      name: `the server's data directory ${this.datadir}`,
      manifest,
      tables: this.tables,
      databases: this.databases,
      seen: this.seen,
      get totalBytes() {
        return totalBytes();
      },
      entries: () => this.generate(),
      get completed() {
        return completed();
      },
      lockStats: () => this.session.stats(),
      close: () => this.session.close(),
    };
  }

  /** Every entry, table by table, locking per table when asked; unlocks at the end. */
  async *generate(): AsyncGenerator<FileEntry> {
    const { opts, session } = this;
    try {
      if (opts.lockPerTable) {
        for (const t of opts.tables) {
          await session.lock([t]);
          const now = await showCreateTable(opts.conn, t.database, t.name);
          if (!sameDefinition(now, this.creates.get(t)!)) {
            throw new ServerError(
              `${tableLabel(t.database, t.name)} was altered during the backup; run it again`,
            );
          }
          await this.statFiles([t], true);
          yield* this.tableEntries(t);
          this.allRead();
          await session.unlock();
        }
      } else {
        for (const t of opts.tables) yield* this.tableEntries(t);
        this.allRead();
        await session.unlock();
      }
      this.completed = true;
    } catch (err) {
      if (err instanceof IoError) {
        await session.probe();
        this.check();
      }
      throw err;
    } finally {
      await session.close();
    }
  }

  allRead(): void {
    this.check();
    if (this.unread.size > 0) {
      throw new IoError(`the backup stopped before ${[...this.unread][0]} was read to the end`);
    }
  }

  async *tableEntries(t: SelectedTable): AsyncGenerator<FileEntry> {
    for (const path of tableEntryPaths(t)) {
      this.check();
      yield this.entryOf(path, this.sizes.get(path)!);
    }
  }

  /** The data of an entry; a failure is first checked against a lost connection. */
  async *guarded(data: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
    try {
      yield* data;
    } catch (err) {
      if (err instanceof IoError) {
        await this.session.probe();
        this.check();
      }
      throw err;
    }
  }

  entryOf(path: string, size: number): FileEntry {
    const { opts } = this;
    const chunkSize = opts.chunkSize ?? DEFAULT_CHUNK;
    const file = streamFile(`${this.datadir}/${path}`, size, this.datadir, chunkSize, (chunk) => {
      this.check();
      this.bytes += chunk.length;
      opts.onProgress?.(this.bytes, path);
    });
    let entry: FileEntry = { path, size, mode: 0o640, data: this.guarded(file) };
    if (path.endsWith(".ibd") && opts.checkPages) entry = opts.checkPages(entry);
    const inner = entry.data;
    const wantCrc = opts.crc ?? true;
    this.unread.add(path);
    const { unread, seen } = this;
    return {
      ...entry,
      data: (async function* () {
        const crc = new Crc32c();
        let n = 0;
        for await (const chunk of inner) {
          if (wantCrc) crc.update(chunk);
          n += chunk.length;
          yield chunk;
        }
        unread.delete(path);
        if (wantCrc) seen.set(path, { size: n, crc32c: crc.hex() });
      })(),
    };
  }
}

/** Size of a data directory file, or an IoError that says what is wrong with it. */
async function fileSize(path: string, datadir: string): Promise<number> {
  try {
    return (await stat(path)).size;
  } catch (err) {
    throw await fsError(err, path, datadir, "stat");
  }
}

async function fsError(
  err: unknown,
  path: string,
  datadir: string,
  what: string,
): Promise<IoError> {
  const code = (err as { code?: string }).code;
  if (code === "EACCES" || code === "EPERM") return await permissionError(path, datadir);
  if (code === "ENOENT") {
    return new IoError(`${path} does not exist (the server did not write it during the export)`);
  }
  return new IoError(`cannot ${what} ${path}: ${(err as Error).message}`, { cause: err });
}

/**
 * Read exactly `size` bytes of a file in chunks of `chunkSize`, reading the next
 * chunk while the consumer handles the current one (two buffers, reused: a chunk
 * is valid until the next is asked for). `onChunk` runs before each chunk is
 * yielded and may throw to stop. A file shorter than `size` is an IoError.
 */
export async function* streamFile(
  path: string,
  size: number,
  datadir: string,
  chunkSize: number,
  onChunk: (chunk: Uint8Array) => void,
): AsyncGenerator<Uint8Array> {
  let fh;
  try {
    fh = await open(path, "r");
  } catch (err) {
    throw await fsError(err, path, datadir, "open");
  }
  try {
    const bufs = [
      new Uint8Array(Math.min(chunkSize, size)),
      new Uint8Array(Math.min(chunkSize, size)),
    ];
    let pos = 0;
    let which = 0;
    const readAt = async (buf: Uint8Array, at: number): Promise<Uint8Array> => {
      const want = Math.min(buf.length, size - at);
      let got = 0;
      while (got < want) {
        let n: number;
        try {
          ({ bytesRead: n } = await fh!.read(buf, got, want - got, at + got));
        } catch (err) {
          throw await fsError(err, path, datadir, "read");
        }
        if (n === 0) {
          throw new IoError(`${path}: file ended at byte ${at + got}, expected ${size} bytes`);
        }
        got += n;
      }
      return buf.subarray(0, want);
    };
    let next = size > 0 ? readAt(bufs[0], 0) : undefined;
    while (next) {
      const chunk = await next;
      pos += chunk.length;
      which ^= 1;
      next = pos < size ? readAt(bufs[which], pos) : undefined;
      next?.catch(() => {}); // surfaced when awaited
      onChunk(chunk);
      yield chunk;
    }
  } finally {
    await fh.close().catch(() => {});
  }
}
