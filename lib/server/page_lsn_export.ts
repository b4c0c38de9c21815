/**
 * The page-LSN export (issue 12): minimum locking and incremental backups of
 * selected tables without parsing the redo log.
 *
 * 1. Read the checkpoint LSN L0, then copy each `.ibd` without any lock, page by
 *    page in its physical page size. A full backup yields the hot copy `F` as it
 *    is read (torn pages expected); an incremental spools only the pages whose
 *    on-disk LSN is ≥ the base's end LSN, plus its growth, into `F.delta`.
 * 2. Lock (FLUSH TABLES ... FOR EXPORT), read the current LSN (the backup's end
 *    LSN), and for each file spool page 0, every page with LSN ≥ L0 and every page
 *    past what the hot pass read into the file's delta, and the fresh `.cfg`;
 *    unlock. Only page-cache reads and spool writes happen under the lock.
 * 3. Yield each `F.delta` and `.cfg` from the spool. Readers rebuild `F` by
 *    applying the delta (lib/innodb/delta_apply.ts).
 *
 * A page dirty in the buffer pool when L0 was read was first changed after the
 * checkpoint, so whatever the hot pass read of it, its final page LSN is > L0 and
 * the locked pass takes it; every change after the unlock gets an LSN above the end
 * LSN, which is why later incrementals continue from there.
 */
import { mkdtemp, open, readFile, rm, stat, writeFile } from "node:fs/promises";
import type { FileHandle } from "node:fs/promises";
import { join } from "node:path";
import process from "node:process";
import type { Connection } from "mysql2/promise";
import type { FileEntry } from "../entry.ts";
import { CorruptionError, IoError } from "../errors.ts";
import type { ChecksumAlgorithm } from "../innodb/algorithm.ts";
import { decodeFlags, type SpaceInfo, spaceInfoFromPage0 } from "../innodb/flags.ts";
import { FSP_SPACE_FLAGS } from "../innodb/layout.ts";
import type { CorruptPage } from "../innodb/page_range.ts";
import { scanChangedPages } from "../innodb/page_lsn.ts";
import { DELTA_SUFFIX, DeltaBuilder, readDelta } from "../innodb/delta_format.ts";
import { PageJudge } from "../innodb/page_judge.ts";
import { HotPages } from "../innodb/hot_pages.ts";
import { incrementalCopy, type TablespaceRecord } from "../core/chain.ts";
import { removeStaleSpools, spoolPrefix } from "../core/part_files.ts";
import type { Flavor } from "./facts.ts";
import { readServerLsns } from "./lsn.ts";
import type { SelectedTable } from "./tables.ts";

/** Takes and releases FLUSH TABLES ... FOR EXPORT for a set of tables. */
export interface Locker {
  lock(tables: SelectedTable[]): Promise<void>;
  unlock(): Promise<void>;
}

/** How to run a page-LSN export. */
export interface PageLsnExportOptions {
  /** The connection the locker uses (LSNs are read on it too). */
  conn: Connection;
  flavor: Flavor;
  /** Data directory the files are read from. */
  datadir: string;
  tables: SelectedTable[];
  locker: Locker;
  /** Directory in which a private spool directory is made for the deltas. */
  spoolDir: string;
  /** Incremental: the base's end LSN and its tablespaces by `.ibd` path. */
  incremental?: { endLsn: bigint; files: Map<string, TablespaceRecord> };
  /** Judge pages (the rebuilt result: torn hot pages the delta replaces are fine). */
  algorithm?: ChecksumAlgorithm;
  /** Human table name per entry path, for messages. */
  describe?: (path: string) => string;
  /** Bytes per read in the hot pass (default 1 MiB). */
  chunkSize?: number;
  signal?: AbortSignal;
  /**
   * Run on the locked connection while the tables are locked, after the end LSN
   * is read (whole-database backups: the binlog position, logical tables' rows).
   */
  atLock?: (conn: Connection) => Promise<void>;
  /** Called after the hot pass, before the lock (tests pause writers here). */
  beforeLock?: () => Promise<void>;
  /** Called with the running count of hot-pass bytes read and the path being read. */
  onProgress?: (bytes: number, path: string) => void;
}

/** What a finished page-LSN export measured. */
export interface PageLsnResult {
  /** Checkpoint LSN read before the hot pass. */
  startLsn: bigint;
  /** Current LSN read under the lock. */
  endLsn: bigint;
  /** Milliseconds the tables were locked. */
  lockMs: number;
  /** Bytes of all deltas. */
  deltaBytes: number;
  /** One record per `.ibd`, in table order. */
  tablespaces: (TablespaceRecord & { table: string })[];
}

/** A running page-LSN export. */
export interface PageLsnExport {
  /** The entries in order: hot copies (full), then per table its deltas and `.cfg`s. Iterate once. */
  readonly entries: AsyncIterable<FileEntry>;
  /** Each `.ibd` with how it is carried (decided when the export opens), in table order. */
  readonly files: {
    path: string;
    table: SelectedTable;
    copy: "whole" | "delta";
    reason?: string;
    /** Bytes of the file at open. */
    bytes: number;
  }[];
  /** Available once the entries were read to the end. */
  result(): PageLsnResult;
  /** Unlock if still locked and remove the spool; idempotent. */
  close(): Promise<void>;
}

/** Environment variable of the test-only pause point before the lock (see waitForPausePoint). */
export const PAUSE_ENV = "IBVAULT_TEST_PAUSE_BEFORE_LOCK";

/**
 * Test-only pause point: when the environment variable IBVAULT_TEST_PAUSE_BEFORE_LOCK
 * names a file F, the export creates `F.paused` after the hot pass and waits
 * until F exists before it locks the tables.
 */
async function waitForPausePoint(signal?: AbortSignal): Promise<void> {
  const f = process.env[PAUSE_ENV];
  if (!f) return;
  await writeFile(`${f}.paused`, "");
  while (true) {
    signal?.throwIfAborted();
    try {
      await stat(f);
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 20));
    }
  }
}

interface FileState {
  table: SelectedTable;
  label: string;
  path: string;
  /** Space facts at the start of the hot pass (undefined: file had no whole page 0). */
  hot?: SpaceInfo;
  /** Bytes the hot pass read (whole pages). */
  hotBytes: number;
  copy: "whole" | "delta";
  reason?: string;
  /** Incremental delta spool started in the hot pass. */
  spool?: Spool;
  /** Hot copy pages judged corrupt (full/whole: replaced or reported later). */
  corrupt: CorruptPage[];
  /** Pages the hot pass read intact with LSN ≥ the start LSN (left out under the lock if unchanged). */
  hotPages?: HotPages;
  record?: TablespaceRecord & { table: string };
  /** Space facts under the lock (the delta's pages are judged with them). */
  locked?: SpaceInfo;
  deltaFile?: string;
  deltaBytes?: number;
  cfgFile?: string;
  cfgSize?: number;
}

interface Spool {
  fh: FileHandle;
  file: string;
  builder: DeltaBuilder;
}

/** Page 0's facts: flags, space id, and (a whole page 0 read) its encryption record. */
async function readPage0(fh: FileHandle): Promise<SpaceInfo | undefined> {
  const b = new Uint8Array(FSP_SPACE_FLAGS + 4);
  const { bytesRead } = await fh.read(b, 0, b.length, 0);
  if (bytesRead < b.length) return undefined;
  const head = spaceInfoFromPage0(b);
  const page = new Uint8Array(head.physicalSize);
  const { bytesRead: n } = await fh.read(page, 0, page.length, 0);
  return n === page.length ? spaceInfoFromPage0(page) : head;
}

/** Open a table's file; `label` names the table in the error when the file is gone. */
async function openDataFile(path: string, label: string): Promise<FileHandle> {
  try {
    return await open(path, "r");
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === "ENOENT") {
      throw new IoError(
        `${label}: its file ${path} is gone: dropped or renamed during the backup ` +
          `(nothing is locked, nothing was written as complete): run the backup again`,
      );
    }
    throw new IoError(`cannot open ${path}: ${(err as Error).message}`, { cause: err });
  }
}

/** One export run: its files, spool and state; see the module documentation. */
class PageLsnRun {
  readonly judge?: PageJudge;
  readonly chunkSize: number;
  readonly files: FileState[] = [];
  locked = false;
  closed = false;
  result?: PageLsnResult;
  spoolN = 0;
  hotRead = 0;
  /** Checkpoint LSN read before the hot pass. */
  startLsn?: bigint;
  readonly open_: FileHandle[] = [];

  constructor(readonly opts: PageLsnExportOptions, readonly spoolDir: string) {
    this.judge = opts.algorithm ? new PageJudge(opts.algorithm) : undefined;
    this.chunkSize = opts.chunkSize ?? 1 << 20;
    for (const t of opts.tables) {
      for (const s of t.stems) {
        this.files.push({
          table: t,
          label: opts.describe?.(`${s}.ibd`) ?? `${t.database}.${t.name}`,
          path: `${s}.ibd`,
          hotBytes: 0,
          copy: "whole",
          corrupt: [],
        });
      }
    }
  }

  async newSpool(header: ConstructorParameters<typeof DeltaBuilder>[0]): Promise<Spool> {
    const file = join(this.spoolDir, `${this.spoolN++}${DELTA_SUFFIX}`);
    const fh = await open(file, "wx", 0o600);
    this.open_.push(fh);
    const builder = new DeltaBuilder(header, async (b) => {
      let off = 0;
      while (off < b.length) off += (await fh.write(b, off, b.length - off)).bytesWritten;
    });
    await builder.begin();
    return { fh, file, builder };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.locked) {
      this.locked = false;
      await this.opts.locker.unlock().catch(() => {});
    }
    for (const fh of this.open_) await fh.close().catch(() => {});
    await rm(this.spoolDir, { recursive: true, force: true });
  }

  async *hotCopy(f: FileState, fh: FileHandle, size: number): AsyncGenerator<Uint8Array> {
    const buf = new Uint8Array(Math.min(this.chunkSize, Math.max(size, 1)));
    let pos = 0;
    while (pos < size) {
      this.opts.signal?.throwIfAborted();
      const want = Math.min(buf.length, size - pos);
      let got = 0;
      while (got < want) {
        const { bytesRead } = await fh.read(buf, got, want - got, pos + got);
        if (bytesRead === 0) {
          throw new IoError(`${f.path}: ended at byte ${pos + got} during the hot copy`);
        }
        got += bytesRead;
      }
      pos += got;
      this.hotRead += got;
      this.opts.onProgress?.(this.hotRead, f.path);
      yield buf.subarray(0, got);
    }
  }

  /**
   * Before the hot pass: each file's page 0 and size, and (incremental) whether it
   * goes whole or as a delta. Decided here so the manifest an image starts with
   * already names every entry.
   */
  async planFile(f: FileState): Promise<void> {
    const fh = await openDataFile(join(this.opts.datadir, f.path), f.label);
    try {
      const st = await fh.stat();
      f.hot = await readPage0(fh).catch((err) => {
        throw new CorruptionError(`${f.path} (${f.label}): page 0: ${(err as Error).message}`);
      });
      if (!f.hot) return; // no whole page 0 yet: everything is taken under the lock
      const ps = f.hot.physicalSize;
      f.hotBytes = Math.floor(st.size / ps) * ps;
      if (this.opts.incremental) {
        const d = incrementalCopy(this.opts.incremental.files.get(f.path), {
          spaceId: f.hot.spaceId,
          flags: f.hot.flags,
          pageSize: ps,
          size: f.hotBytes,
        });
        f.copy = d.copy;
        f.reason = d.reason;
      }
    } finally {
      await fh.close().catch(() => {});
    }
  }

  /**
   * The record of intact hot pages newer than the start LSN, when pages are judged
   * (without a judge nothing is known intact, and the locked pass takes them all).
   */
  hotPagesOf(f: FileState): HotPages | undefined {
    if (!this.judge || this.startLsn === undefined) return undefined;
    return f.hotPages = new HotPages(f.hot!, this.startLsn);
  }

  /** The hot pass of one file: yields its hot copy entry (whole) or spools its pages (delta). */
  async *hotPass(f: FileState): AsyncGenerator<FileEntry> {
    if (f.copy === "whole" && !f.hot) {
      yield { path: f.path, size: 0, mode: 0o640, data: (async function* () {})() };
      return;
    }
    const fh = await openDataFile(join(this.opts.datadir, f.path), f.label);
    try {
      const ps = f.hot!.physicalSize;
      if (f.copy === "delta") {
        const base = this.opts.incremental!.files.get(f.path)!;
        f.spool = await this.newSpool({
          pageSize: ps,
          spaceId: f.hot!.spaceId,
          fspFlags: f.hot!.flags,
          complete: false,
          sinceLsn: this.opts.incremental!.endLsn,
        });
        const it = scanChangedPages(fh, {
          pageSize: ps,
          length: f.hotBytes,
          since: this.opts.incremental!.endLsn,
          allFrom: Math.floor(base.size / ps),
        });
        const hot = this.hotPagesOf(f);
        for await (const run of it) {
          this.opts.signal?.throwIfAborted();
          hot?.note(run.first, run.bytes, this.judge!.judge(f.hot!, run.first, run.bytes));
          await f.spool.builder.run(run.first, run.bytes);
        }
        this.hotRead += f.hotBytes;
        this.opts.onProgress?.(this.hotRead, f.path);
        return;
      }
      let data: AsyncIterable<Uint8Array> = this.hotCopy(f, fh, f.hotBytes);
      const hot = this.hotPagesOf(f);
      if (this.judge) {
        data = this.judge.watch(data, f.hot!, f.corrupt, (first, bytes, bad) => {
          hot?.note(first, bytes, bad);
        });
      }
      yield { path: f.path, size: f.hotBytes, mode: 0o640, data };
    } finally {
      await fh.close().catch(() => {});
    }
  }

  /** Under the lock: finish the delta of one file and copy its `.cfg` into the spool. */
  async lockedPass(f: FileState, startLsn: bigint, endLsn: bigint): Promise<void> {
    const fh = await openDataFile(join(this.opts.datadir, f.path), f.label);
    try {
      const st = await fh.stat();
      const now = await readPage0(fh);
      if (!now) throw new CorruptionError(`${f.path} (${f.label}): no whole page 0 under the lock`);
      f.locked = now;
      const ps = now.physicalSize;
      const size = Math.floor(st.size / ps) * ps;
      const same = f.hot !== undefined && f.hot.spaceId === now.spaceId &&
        f.hot.flags === now.flags && f.hot.physicalSize === ps && size >= f.hotBytes;
      let sp = f.spool;
      if (!same || !sp) {
        if (sp) {
          await sp.fh.truncate(0); // rebuilt during the hot pass: start over, every page
          f.reason = "rebuilt during the backup: every page taken under the lock";
        }
        sp = f.spool = await this.newSpool({
          pageSize: ps,
          spaceId: now.spaceId,
          fspFlags: now.flags,
          complete: !same,
          sinceLsn: startLsn,
        });
      }
      const hot = same ? f.hotPages : undefined;
      let kept = 0;
      // An incremental's delta file needs no page the base already has: one whose LSN
      // is at most the base's end LSN has not changed since (the checkpoint can lag
      // behind that LSN, and the pages between them were taken again).
      const baseEnd = f.copy === "delta" && same ? this.opts.incremental!.endLsn : 0n;
      const it = scanChangedPages(fh, {
        pageSize: ps,
        length: size,
        since: baseEnd > startLsn ? baseEnd : startLsn,
        allFrom: same ? f.hotBytes / ps : 0,
        skip: hot && ((p, lsn) => hot.unchanged(p, lsn) && ++kept > 0),
      });
      for await (const run of it) await sp.builder.run(run.first, run.bytes);
      await sp.builder.end(size / ps);
      f.deltaFile = sp.file;
      f.deltaBytes = sp.builder.bytes;
      f.record = {
        table: f.label,
        file: f.path,
        spaceId: now.spaceId,
        flags: now.flags,
        pageSize: ps,
        size,
        endLsn: endLsn.toString(),
        copy: f.copy,
        deltaPages: sp.builder.pages,
        unchangedPages: kept,
      };
      if (f.reason) f.record.reason = f.reason;
    } finally {
      await fh.close().catch(() => {});
    }
    const cfg = f.path.replace(/\.ibd$/, ".cfg");
    f.cfgFile = join(this.spoolDir, `${this.spoolN++}.cfg`);
    let bytes: Uint8Array;
    try {
      bytes = await readFile(join(this.opts.datadir, cfg));
    } catch (err) {
      throw new IoError(
        `cannot read ${join(this.opts.datadir, cfg)} under the lock: ${(err as Error).message}`,
      );
    }
    await writeFile(f.cfgFile, bytes, { flag: "wx", mode: 0o600 });
    f.cfgSize = bytes.length;
  }

  /**
   * After the unlock: this.judge the pages of a spooled delta, and the hot pages it did
   * not replace (torn hot pages are expected, but only where the delta replaces
   * them). Records the pages replaced. Throws CorruptionError naming the table.
   */
  async judgeFile(f: FileState): Promise<void> {
    const fh = await open(f.deltaFile!, "r");
    const replaced = new Set<number>();
    const bad: CorruptPage[] = [];
    try {
      const where = `${f.path}${DELTA_SUFFIX}`;
      const { header, runs } = await readDelta(
        readChunks(fh, f.deltaBytes!, this.chunkSize),
        where,
      );
      const space = f.locked ?? decodeFlags(header.fspFlags, header.spaceId);
      for await (const run of runs) {
        for (let i = 0; i < run.count; i++) replaced.add(run.first + i);
        if (this.judge) bad.push(...this.judge.judge(space, run.first, run.bytes));
      }
    } finally {
      await fh.close().catch(() => {});
    }
    const pages = f.record!.size / f.record!.pageSize;
    if (f.copy === "whole") {
      f.record!.replacedPages = [...replaced].filter((p) => p < f.hotBytes / f.record!.pageSize)
        .length;
      for (const c of f.corrupt) if (!replaced.has(c.page) && c.page < pages) bad.push(c);
    }
    if (bad.length > 0) {
      bad.sort((a, b) => a.page - b.page);
      throw new CorruptionError(
        `${f.path} (${f.label}): corrupt page in the source: ` +
          bad.slice(0, 5).map((c) => `page ${c.page}: ${c.reason}`).join("; "),
      );
    }
  }

  deltaEntry(f: FileState): FileEntry {
    const chunkSize = this.chunkSize;
    const file = f.deltaFile!;
    const size = f.deltaBytes!;
    return {
      path: `${f.path}${DELTA_SUFFIX}`,
      size,
      mode: 0o640,
      data: (async function* () {
        const fh = await open(file, "r");
        try {
          yield* readChunks(fh, size, chunkSize);
        } finally {
          await fh.close().catch(() => {});
        }
      })(),
    };
  }

  cfgEntry(f: FileState): FileEntry {
    const file = f.cfgFile!;
    return {
      path: f.path.replace(/\.ibd$/, ".cfg"),
      size: f.cfgSize!,
      mode: 0o640,
      data: (async function* () {
        yield await readFile(file);
      })(),
    };
  }

  async *generate(): AsyncGenerator<FileEntry> {
    try {
      const { checkpoint: startLsn } = await readServerLsns(this.opts.conn, this.opts.flavor);
      this.startLsn = startLsn;
      for (const f of this.files) yield* this.hotPass(f);
      await waitForPausePoint(this.opts.signal);
      await this.opts.beforeLock?.();
      this.opts.signal?.throwIfAborted();
      this.locked = true;
      const t0 = performance.now();
      await this.opts.locker.lock(this.opts.tables);
      const { current: endLsn } = await readServerLsns(this.opts.conn, this.opts.flavor);
      await this.opts.atLock?.(this.opts.conn);
      for (const f of this.files) {
        this.opts.signal?.throwIfAborted();
        await this.lockedPass(f, startLsn, endLsn);
      }
      this.locked = false;
      await this.opts.locker.unlock();
      const lockMs = performance.now() - t0;
      for (const f of this.files) await this.judgeFile(f);
      for (const f of this.files) {
        yield this.deltaEntry(f);
        yield this.cfgEntry(f);
      }
      this.result = {
        startLsn,
        endLsn,
        lockMs,
        deltaBytes: this.files.reduce((n, f) => n + (f.deltaBytes ?? 0), 0),
        tablespaces: this.files.map((f) => f.record!),
      };
    } finally {
      await this.close();
    }
  }
}

/** Open a page-LSN export (each file's page 0 is read now); call close() in a `finally`. */
export async function openPageLsnExport(opts: PageLsnExportOptions): Promise<PageLsnExport> {
  // Named with the PID, so a killed run's spool is recognised and removed (part_files.ts).
  await removeStaleSpools(opts.spoolDir);
  const run = new PageLsnRun(opts, await mkdtemp(spoolPrefix(opts.spoolDir)));
  try {
    for (const f of run.files) await run.planFile(f);
  } catch (err) {
    await run.close();
    throw err;
  }
  return {
    files: run.files.map((f) => ({
      path: f.path,
      table: f.table,
      copy: f.copy,
      reason: f.reason,
      bytes: f.hotBytes,
    })),
    entries: { [Symbol.asyncIterator]: () => run.generate() },
    result() {
      if (!run.result) throw new IoError("the export has not finished");
      return run.result;
    },
    close: () => run.close(),
  };
}

async function* readChunks(
  fh: FileHandle,
  size: number,
  chunk: number,
): AsyncGenerator<Uint8Array> {
  const buf = new Uint8Array(Math.min(chunk, Math.max(1, size)));
  let pos = 0;
  while (pos < size) {
    const { bytesRead } = await fh.read(buf, 0, Math.min(buf.length, size - pos), pos);
    if (bytesRead === 0) throw new IoError(`spool file ended early at byte ${pos}`);
    pos += bytesRead;
    yield buf.subarray(0, bytesRead);
  }
}

/**
 * A {@link Locker} over one connection: FLUSH TABLES ... FOR EXPORT, UNLOCK TABLES
 * (the statements of the TTS export, lib/server/export.ts).
 */
export function sqlLocker(conn: Connection, flushSql: (t: SelectedTable[]) => string): Locker {
  return {
    lock: async (tables) => void (await conn.query(flushSql(tables))),
    unlock: async () => void (await conn.query("UNLOCK TABLES")),
  };
}
