/**
 * The transportable-tablespace export source: `FLUSH TABLES t1, ..., tn FOR EXPORT`
 * on one connection, then the `.ibd` and `.cfg` of every table streamed out of the
 * data directory as {@link FileEntry} records, then `UNLOCK TABLES`. Any sink (a
 * backup directory, an image, stdout) consumes the entries. Tables are unlocked on
 * every path: the end of the entries, an SQL or I/O error, a consumer that stops
 * early, the abort signal, or {@link TtsExport.close}. A lost connection fails the
 * export (the server dropped the lock, so the copy may be inconsistent).
 */
import { open, stat } from "node:fs/promises";
import type { Connection } from "mysql2/promise";
import type { FileEntry } from "../entry.ts";
import type { DatabaseRecord, EntryRecord, ServerFacts, TableRecord } from "../image/manifest.ts";
import { encodeFilename } from "../names/filename.ts";
import { quoteIdentifier, quoteTable } from "../names/quote.ts";
import { crc32c } from "../kernels/mod.ts";
import { CorruptionError, IoError, ServerError } from "../errors.ts";
import type { ChecksumAlgorithm } from "../innodb/algorithm.ts";
import { allocPageBuffer, type PageBuffer } from "../innodb/checksum_kernels.ts";
import { type SpaceInfo, spaceInfoFromPage0 } from "../innodb/flags.ts";
import { FSP_SPACE_FLAGS, UNIV_PAGE_SIZE_MAX } from "../innodb/layout.ts";
import { checkPages, emptyRange } from "../innodb/page_range.ts";
import { queryRows } from "./facts.ts";
import { permissionError, type SelectedTable } from "./tables.ts";

/** Wraps an entry so its pages are checked as its data flows (throws CorruptionError). */
export type PageCheck = (entry: FileEntry) => FileEntry;

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
  /** Stops the export and unlocks at once when aborted. */
  signal?: AbortSignal;
  /** Page checker applied to every `.ibd` entry (none: pages are not checked). */
  checkPages?: PageCheck;
  /** Compute each entry's CRC-32C into {@link TtsExport.records} (default true). */
  crc?: boolean;
  /** Bytes per read (default 1 MiB; a multiple of every page size). */
  chunkSize?: number;
  /** Called with the running count of bytes read and the entry path being read. */
  onProgress?: (bytes: number, path: string) => void;
  /** Called on each lock and unlock, with the tables concerned and the lock's duration. */
  onLock?: (event: "locked" | "unlocked", tables: SelectedTable[], ms: number) => void;
}

/** How long tables were locked. */
export interface LockStats {
  /** Total milliseconds tables were locked (the sum over locks with --lock-per-table). */
  totalMs: number;
  /** The longest single lock. */
  longestMs: number;
  /** Number of FLUSH ... FOR EXPORT statements run. */
  locks: number;
}

/** A running export; see the module documentation. */
export interface TtsExport {
  /** The tables with their CREATE statements and file paths, known when the export opens. */
  readonly tables: TableRecord[];
  /** The databases of those tables with their CREATE statements. */
  readonly databases: DatabaseRecord[];
  /** Sum of the sizes of the files to copy, as known at open (exact when locked at open). */
  readonly totalBytes: number;
  /** The files, in order; iterate once. Finishing the iteration unlocks the last tables. */
  readonly entries: AsyncIterable<FileEntry>;
  /** Size and CRC-32C of each entry fully read (with `crc`), in order. */
  readonly records: EntryRecord[];
  /** True once every entry was read and every UNLOCK TABLES succeeded. */
  readonly completed: boolean;
  /** Lock durations so far. */
  lockStats(): LockStats;
  /** Unlock if still locked and stop the entries; idempotent, never throws. */
  close(): Promise<void>;
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

/** `SHOW CREATE DATABASE` of one database. */
export async function showCreateDatabase(conn: Connection, db: string): Promise<string> {
  const rows = await queryRows<Record<string, string>>(
    conn,
    `SHOW CREATE DATABASE ${quoteIdentifier(db)}`,
  );
  return String(rows[0]?.["Create Database"] ?? "");
}

/** The `FLUSH TABLES ... FOR EXPORT` statement for these tables (same on both flavours). */
export function flushForExportSql(tables: SelectedTable[]): string {
  return `FLUSH TABLES ${tables.map((t) => quoteTable(t.database, t.name)).join(", ")} FOR EXPORT`;
}

/** Entry paths of a table's files: for each tablespace its `.ibd` then its `.cfg`. */
export function tableEntryPaths(t: SelectedTable): string[] {
  return t.stems.flatMap((s) => [`${s}.ibd`, `${s}.cfg`]);
}

function describe(tables: SelectedTable[]): string {
  const names = tables.map((t) => quoteTable(t.database, t.name));
  return names.length <= 3
    ? names.join(", ")
    : `${names.slice(0, 3).join(", ")} and ${names.length - 3} more`;
}

/**
 * Open an export. Without `lockPerTable` the selected tables are locked when this
 * resolves (so their CREATE statements and file sizes match the files); with it,
 * CREATE statements are read now and checked again under each table's lock. Call
 * {@link TtsExport.close} in a `finally`, whatever happens.
 */
export async function openTtsExport(opts: ExportOptions): Promise<TtsExport> {
  const { conn, facts } = opts;
  const datadir = String(facts.datadir);
  const chunkSize = opts.chunkSize ?? DEFAULT_CHUNK;
  const wantCrc = opts.crc ?? true;
  const stats: LockStats = { totalMs: 0, longestMs: 0, locks: 0 };
  const records: EntryRecord[] = [];
  let locked: SelectedTable[] = [];
  let lockStart = 0;
  let closed = false;
  let flushing = false;
  let completed = false;
  let lost: Error | undefined;

  const onLost = (err?: unknown) => {
    lost ??= err instanceof Error ? err : new Error("connection closed");
  };
  conn.on("error", onLost);
  conn.on("end", onLost);
  const onAbort = () => void close();
  opts.signal?.addEventListener("abort", onAbort, { once: true });

  const check = () => {
    opts.signal?.throwIfAborted();
    if (lost && locked.length > 0) {
      throw new ServerError(
        `connection to the server lost while ${describe(locked)} were locked ` +
          `(${lost.message}): the server released the lock, so the copy is not consistent`,
      );
    }
    if (closed && !completed) throw new ServerError("export stopped: tables were unlocked");
  };

  /** After a failure while tables are locked: is the connection still there? */
  const probe = async () => {
    if (lost || locked.length === 0) return;
    try {
      await conn.query("DO 0");
    } catch (err) {
      onLost(err);
    }
  };

  async function lock(tables: SelectedTable[]): Promise<void> {
    check();
    lockStart = performance.now();
    locked = tables;
    flushing = true;
    try {
      await queryRows(conn, flushForExportSql(tables));
    } catch (err) {
      locked = [];
      throw err;
    } finally {
      flushing = false;
    }
    stats.locks++;
    opts.onLock?.("locked", tables, 0);
  }

  async function unlock(): Promise<void> {
    if (locked.length === 0) return;
    const tables = locked;
    try {
      if (lost) throw lost;
      await queryRows(conn, "UNLOCK TABLES");
    } catch (err) {
      locked = [];
      throw new ServerError(
        `UNLOCK TABLES failed for ${describe(tables)} (${(err as Error).message}): ` +
          `the lock was lost before the copy ended, so the copy is not consistent`,
        { cause: err },
      );
    }
    locked = [];
    const ms = performance.now() - lockStart;
    stats.totalMs += ms;
    stats.longestMs = Math.max(stats.longestMs, ms);
    opts.onLock?.("unlocked", tables, ms);
  }

  async function close(): Promise<void> {
    if (closed) return;
    closed = true;
    opts.signal?.removeEventListener("abort", onAbort);
    try {
      // Still waiting for the lock (e.g. behind a long transaction): an UNLOCK would
      // queue behind the FLUSH, so drop the connection; the server releases all.
      if (flushing) conn.destroy();
      else await unlock();
    } catch {
      // closing after a failure: the error that led here is what the user sees
    } finally {
      conn.off("error", onLost);
      conn.off("end", onLost);
    }
  }

  const creates = new Map<SelectedTable, string>();
  async function readCreates(tables: SelectedTable[]): Promise<void> {
    for (const t of tables) creates.set(t, await showCreateTable(conn, t.database, t.name));
  }

  const sizes = new Map<string, number>();
  async function statFiles(tables: SelectedTable[], withCfg: boolean): Promise<void> {
    for (const t of tables) {
      for (const p of withCfg ? tableEntryPaths(t) : t.stems.map((s) => `${s}.ibd`)) {
        sizes.set(p, await fileSize(`${datadir}/${p}`, datadir));
      }
    }
  }

  let tables: TableRecord[] = [];
  const databases: DatabaseRecord[] = [];
  try {
    if (!opts.lockPerTable && opts.tables.length > 0) await lock(opts.tables);
    await readCreates(opts.tables);
    for (const db of [...new Set(opts.tables.map((t) => t.database))]) {
      databases.push({
        name: db,
        dir: encodeFilename(db),
        createStatement: await showCreateDatabase(conn, db),
      });
    }
    await statFiles(opts.tables, !opts.lockPerTable);
    tables = opts.tables.map((t) => {
      const rec: TableRecord = {
        database: t.database,
        name: t.name,
        engine: t.engine,
        createStatement: creates.get(t)!,
        files: tableEntryPaths(t),
      };
      if (t.rowFormat) rec.rowFormat = t.rowFormat;
      return rec;
    });
    check();
  } catch (err) {
    await close();
    // After an abort, what failed in its wake (a dropped FLUSH) is not the story.
    if (opts.signal?.aborted) throw opts.signal.reason;
    throw err;
  }

  let bytes = 0;
  const readFile = (path: string, size: number) =>
    streamFile(`${datadir}/${path}`, size, datadir, chunkSize, (chunk) => {
      check();
      bytes += chunk.length;
      opts.onProgress?.(bytes, path);
    });

  function entryOf(path: string, size: number): FileEntry {
    let entry: FileEntry = { path, size, mode: 0o640, data: guarded(readFile(path, size)) };
    if (path.endsWith(".ibd") && opts.checkPages) entry = opts.checkPages(entry);
    const inner = entry.data;
    unread.add(path);
    return {
      ...entry,
      data: (async function* () {
        let crc = 0;
        let n = 0;
        for await (const chunk of inner) {
          if (wantCrc) crc = crc32c(chunk, crc);
          n += chunk.length;
          yield chunk;
        }
        unread.delete(path);
        if (wantCrc) {
          records.push({ path, size: n, crc32c: (crc >>> 0).toString(16).padStart(8, "0") });
        }
      })(),
    };
  }

  /** Entries handed out whose data was not read to the end. */
  const unread = new Set<string>();
  const allRead = () => {
    if (unread.size > 0) {
      throw new IoError(`the backup stopped before ${[...unread][0]} was read to the end`);
    }
  };

  async function* tableEntries(t: SelectedTable): AsyncGenerator<FileEntry> {
    for (const path of tableEntryPaths(t)) {
      check();
      yield entryOf(path, sizes.get(path)!);
    }
  }

  /** The data of an entry; a failure is first checked against a lost connection. */
  async function* guarded(data: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
    try {
      yield* data;
    } catch (err) {
      if (err instanceof IoError) {
        await probe();
        check();
      }
      throw err;
    }
  }

  async function* generate(): AsyncGenerator<FileEntry> {
    try {
      if (opts.lockPerTable) {
        for (const t of opts.tables) {
          await lock([t]);
          const now = await showCreateTable(conn, t.database, t.name);
          if (now !== creates.get(t)) {
            throw new ServerError(
              `${quoteTable(t.database, t.name)} was altered during the backup; run it again`,
            );
          }
          await statFiles([t], true);
          yield* tableEntries(t);
          check();
          allRead();
          await unlock();
        }
      } else {
        for (const t of opts.tables) yield* tableEntries(t);
        check();
        allRead();
        await unlock();
      }
      completed = true;
    } catch (err) {
      if (err instanceof IoError) {
        await probe();
        check();
      }
      throw err;
    } finally {
      await close();
    }
  }

  return {
    tables,
    databases,
    get totalBytes() {
      let n = 0;
      for (const [p, s] of sizes) if (p.endsWith(".ibd")) n += s;
      return n;
    },
    entries: { [Symbol.asyncIterator]: () => generate() },
    records,
    get completed() {
      return completed;
    },
    lockStats: () => ({ ...stats }),
    close,
  };
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

/** Settings of {@link pageChecker}. */
export interface PageCheckOptions {
  /** How classic pages are judged (from the server's innodb_checksum_algorithm). */
  algorithm: ChecksumAlgorithm;
  /** Stop at this many corrupt pages in one file (the error lists them). Default 1. */
  threshold?: number;
  /** Human table name per entry path, for messages. */
  describe?: (path: string) => string;
}

/**
 * A {@link PageCheck} that judges every page of an `.ibd` stream as it passes
 * (page size and format from page 0), with the validator's page verdicts. A
 * corrupt page, or a file that is not a whole number of pages, is a
 * CorruptionError naming the file, the table and the page. One instance checks
 * one entry at a time (it owns one page buffer).
 */
export function pageChecker(opts: PageCheckOptions): PageCheck {
  const threshold = Math.max(1, opts.threshold ?? 1);
  let buf: PageBuffer | undefined;
  return (entry) => ({
    ...entry,
    data: (async function* () {
      const cap = DEFAULT_CHUNK + UNIV_PAGE_SIZE_MAX;
      buf ??= allocPageBuffer(cap);
      const where = opts.describe ? `${entry.path} (${opts.describe(entry.path)})` : entry.path;
      let space: SpaceInfo | undefined;
      let fill = 0;
      let pageNo = 0;
      const result = emptyRange();
      const judge = () => {
        if (!space) {
          if (fill < FSP_SPACE_FLAGS + 4) return;
          try {
            space = spaceInfoFromPage0(buf!.bytes.subarray(0, fill));
          } catch (err) {
            throw new CorruptionError(`${where}: page 0: ${(err as Error).message}`);
          }
        }
        const size = space.physicalSize;
        const count = Math.floor(fill / size);
        if (count === 0) return;
        checkPages(buf!, 0, count, pageNo, space, opts.algorithm, threshold, result);
        if (result.corrupt.length >= threshold) {
          const pages = result.corrupt.map((c) => `page ${c.page}: ${c.reason}`).join("; ");
          throw new CorruptionError(`${where}: corrupt page in the source: ${pages}`);
        }
        pageNo += count;
        const used = count * size;
        buf!.bytes.copyWithin(0, used, fill);
        fill -= used;
      };
      for await (const chunk of entry.data) {
        let i = 0;
        while (i < chunk.length) {
          const take = Math.min(cap - fill, chunk.length - i);
          buf.bytes.set(chunk.subarray(i, i + take), fill);
          fill += take;
          i += take;
          judge();
        }
        yield chunk;
      }
      if (result.corrupt.length > 0) {
        const pages = result.corrupt.map((c) => `page ${c.page}: ${c.reason}`).join("; ");
        throw new CorruptionError(`${where}: corrupt page in the source: ${pages}`);
      }
      if (fill > 0) {
        throw new CorruptionError(
          `${where}: size is not a whole number of ${space?.physicalSize ?? "?"}-byte pages ` +
            `(${fill} bytes left after page ${pageNo - 1})`,
        );
      }
    })(),
  });
}
