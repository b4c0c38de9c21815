/**
 * The page-LSN export as a {@link Source} (minimum locking and incrementals):
 * opens the export of lib/server/page_lsn_export.ts on a {@link LockSession},
 * reads the CREATE statements before the hot pass and checks them again under
 * the lock, and keeps the manifest up to date: when the entries are read to
 * their end, `manifest` holds the chain fields (id, kind, base, endLsn), the
 * server identity and per table its tablespaces. For images, whose manifest is
 * written first, a last entry `ibvault_backup_end.json` carries the same facts.
 */
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
import { ServerError } from "../errors.ts";
import type { ChecksumAlgorithm } from "../innodb/algorithm.ts";
import {
  BACKUP_END_FILE,
  type BackupEnd,
  type ChainFields,
  checkIncrementalBase,
  finalManifest,
  type TablespaceRecord,
} from "../core/chain.ts";
import { DELTA_SUFFIX } from "../innodb/delta_format.ts";
import { showCreateDatabase, showCreateTable } from "./export.ts";
import { type LockListener, LockSession, type LockStats } from "./lock_session.ts";
import { openPageLsnExport, type PageLsnExport, type PageLsnResult } from "./page_lsn_export.ts";
import { readServerIdentity, type ServerIdentity } from "./identity.ts";
import { readServerLsns } from "./lsn.ts";
import { lockOnlyTable, type SelectedTable } from "./tables.ts";

/** The base of an incremental as its manifest says it. */
export interface IncrementalBase {
  manifest: Manifest;
  /** Where it is, for messages (`dir:PATH`, `image:FILE`). */
  where: string;
}

/** How to open a page-LSN source. */
export interface PageLsnSourceOptions {
  conn: Connection;
  facts: ServerFacts;
  tables: SelectedTable[];
  /** Seconds FLUSH ... FOR EXPORT may wait for a table (`--lock-wait-timeout`). */
  lockWaitTimeout?: number;
  /** Where the deltas are spooled (a private directory is made inside). */
  spoolDir: string;
  /** Incremental: the backup it continues. */
  base?: IncrementalBase;
  /** Add the `ibvault_backup_end.json` entry (an image, whose manifest goes first). */
  endEntry: boolean;
  recordedOptions: Record<string, unknown>;
  algorithm?: ChecksumAlgorithm;
  signal?: AbortSignal;
  onLock?: LockListener;
  onProgress?: (bytes: number, path: string) => void;
  /** Parts of a whole-database backup read under the same lock (see {@link AtLockParts}). */
  atLock?: AtLockParts;
}

/**
 * What a whole-database backup reads in the locked moment besides the
 * tablespaces: the tables locked with them but carried another way (logical
 * rows), the step run on the locked connection, the tables the backup carries
 * another way (not `gone` for an incremental), and the fields the end adds.
 */
export interface AtLockParts {
  /** Locked with the TTS tables by the same FLUSH TABLES ... FOR EXPORT. */
  alsoLock: { database: string; name: string }[];
  /** Tables carried in another form (logical, by definition). */
  carried: { database: string; name: string }[];
  step: (conn: Connection) => Promise<void>;
  /** Fields known at the lock, for the end (an image's manifest went first). */
  endFields: () => Pick<BackupEnd, "binlog">;
}

/** A running page-LSN backup. */
export interface PageLsnSource extends Source {
  readonly tables: TableRecord[];
  readonly databases: DatabaseRecord[];
  /** Bytes of the `.ibd` files as planned at open. */
  readonly totalBytes: number;
  readonly completed: boolean;
  lockStats(): LockStats;
  /** Available once completed. */
  result(): PageLsnResult;
}

/** Chain fields of a manifest (the shared contract), read defensively. */
export function chainFieldsOf(m: Manifest): ChainFields {
  return m;
}

interface ChainStart {
  chain: ChainFields;
  baseEnd?: bigint;
  baseFiles: Map<string, TablespaceRecord>;
}

/** Identity, a fresh id, and (incremental) the base checked before anything is locked. */
async function startChain(opts: PageLsnSourceOptions): Promise<ChainStart> {
  const { conn, facts } = opts;
  const identity: ServerIdentity = await readServerIdentity(conn, facts);
  const chain: ChainFields = {
    id: crypto.randomUUID(),
    kind: opts.base ? "incremental" : "full",
    identity,
  };
  if (!opts.base) return { chain, baseFiles: new Map() };
  const b = chainFieldsOf(opts.base.manifest);
  const { current } = await readServerLsns(conn, facts.flavor);
  const baseEnd = checkIncrementalBase({ ...b, where: opts.base.where }, identity, current);
  chain.base = { id: b.id!, endLsn: b.endLsn! };
  const baseFiles = new Map(
    opts.base.manifest.tables.flatMap((t) =>
      ((t as { tablespaces?: TablespaceRecord[] }).tablespaces ?? []).map((s) => [s.file, s])
    ),
  );
  const now = [...opts.tables, ...(opts.atLock?.carried ?? [])];
  const gone = opts.base.manifest.tables
    .filter((bt) => !now.some((t) => t.database === bt.database && t.name === bt.name))
    .map((bt) => ({ database: bt.database, name: bt.name, reason: "not in this backup" }));
  if (gone.length) chain.gone = gone;
  return { chain, baseEnd, baseFiles };
}

/** CREATE statements of the tables and their databases (read before the hot pass). */
async function readDefinitions(
  conn: Connection,
  tables: SelectedTable[],
): Promise<{ creates: Map<SelectedTable, string>; databases: DatabaseRecord[] }> {
  const creates = new Map<SelectedTable, string>();
  for (const t of tables) creates.set(t, await showCreateTable(conn, t.database, t.name));
  const databases: DatabaseRecord[] = [];
  for (const db of [...new Set(tables.map((t) => t.database))]) {
    databases.push({
      name: db,
      dir: encodeFilename(db),
      createStatement: await showCreateDatabase(conn, db),
    });
  }
  return { creates, databases };
}

/** The table records: per tablespace `F` when it goes whole, always `F.delta` and the `.cfg`. */
function tableRecords(
  tables: SelectedTable[],
  creates: Map<SelectedTable, string>,
  exp: PageLsnExport,
): TableRecord[] {
  const copyOf = new Map(exp.files.map((f) => [f.path, f.copy]));
  return tables.map((t) => {
    const files: string[] = [];
    for (const s of t.stems) {
      if (copyOf.get(`${s}.ibd`) === "whole") files.push(`${s}.ibd`);
      files.push(`${s}.ibd${DELTA_SUFFIX}`, `${s}.cfg`);
    }
    const rec: TableRecord = {
      database: t.database,
      name: t.name,
      engine: t.engine,
      createStatement: creates.get(t)!,
      files,
    };
    if (t.rowFormat) rec.rowFormat = t.rowFormat;
    return rec;
  });
}

/** Open the source; call close() in a `finally`. */
export async function openPageLsnSource(opts: PageLsnSourceOptions): Promise<PageLsnSource> {
  const { conn, facts } = opts;
  const session = new LockSession(conn, facts, {
    signal: opts.signal,
    onLock: opts.onLock,
    lockWaitTimeout: opts.lockWaitTimeout,
  });
  let exp: PageLsnExport | undefined;
  try {
    const start = await startChain(opts);
    const { creates, databases } = await readDefinitions(conn, opts.tables);
    const labels = new Map<string, string>();
    for (const t of opts.tables) {
      for (const s of t.stems) labels.set(`${s}.ibd`, tableLabel(t.database, t.name));
    }
    const extra = (opts.atLock?.alsoLock ?? []).map(lockOnlyTable);
    exp = await openPageLsnExport({
      conn,
      flavor: facts.flavor,
      datadir: facts.datadir,
      tables: opts.tables,
      atLock: opts.atLock?.step,
      locker: {
        lock: (t) => session.lock([...t, ...extra]),
        unlock: async () => {
          // the statements the manifest records must be those of the locked tables
          for (const t of opts.tables) {
            const now = await showCreateTable(conn, t.database, t.name);
            if (withoutAutoIncrement(now) !== withoutAutoIncrement(creates.get(t)!)) {
              throw new ServerError(
                `${tableLabel(t.database, t.name)} was altered during the backup; run it again`,
              );
            }
          }
          await session.unlock();
        },
      },
      spoolDir: opts.spoolDir,
      incremental: start.baseEnd !== undefined
        ? { endLsn: start.baseEnd, files: start.baseFiles }
        : undefined,
      algorithm: opts.algorithm,
      describe: (p) => labels.get(p) ?? p,
      signal: opts.signal,
      onProgress: opts.onProgress,
    });
    const tables = tableRecords(opts.tables, creates, exp);
    const first = {
      ...buildManifest({ server: facts, options: opts.recordedOptions, databases, tables }),
      ...start.chain,
    } as Manifest;
    return new PageLsnSourceImpl(exp, session, first, tables, databases, opts);
  } catch (err) {
    await exp?.close();
    await session.close();
    if (opts.signal?.aborted) throw opts.signal.reason;
    throw err;
  }
}

/** The source over an opened export. */
class PageLsnSourceImpl implements PageLsnSource {
  readonly seen = new Map<string, SeenEntry>();
  readonly totalBytes: number;
  completed = false;
  readonly name: string;

  constructor(
    readonly exp: PageLsnExport,
    readonly session: LockSession,
    readonly first: Manifest,
    readonly tables: TableRecord[],
    readonly databases: DatabaseRecord[],
    readonly opts: Pick<PageLsnSourceOptions, "endEntry" | "atLock">,
  ) {
    this.name = `${first.server?.flavor ?? "server"} ${first.server?.version ?? ""}`.trim();
    this.totalBytes = exp.files.reduce((n, f) => n + f.bytes, 0);
  }

  /** The first manifest until the end; then completed with what the end says. */
  get manifest(): Manifest {
    return this.completed ? finalManifest(this.first, this.backupEnd()) : this.first;
  }

  lockStats(): LockStats {
    return this.session.stats();
  }

  result(): PageLsnResult {
    return this.exp.result();
  }

  async *entries(select?: (p: string) => boolean): AsyncGenerator<FileEntry> {
    for await (const entry of this.exp.entries) {
      if (select && !select(entry.path)) {
        for await (const _ of entry.data) { /* not selected */ }
        continue;
      }
      yield this.counted(entry);
    }
    this.completed = true;
    if (this.opts.endEntry) {
      const bytes = new TextEncoder().encode(JSON.stringify(this.backupEnd(), null, 1) + "\n");
      yield this.counted({
        path: BACKUP_END_FILE,
        size: bytes.length,
        mode: 0o640,
        data: (async function* () {
          yield bytes;
        })(),
      });
    }
  }

  counted(entry: FileEntry): FileEntry {
    const crc = new Crc32c();
    const seen = this.seen;
    return {
      ...entry,
      data: (async function* () {
        let n = 0;
        for await (const c of entry.data) {
          crc.update(c);
          n += c.length;
          yield c;
        }
        seen.set(entry.path, { size: n, crc32c: crc.hex() });
      })(),
    };
  }

  backupEnd(): BackupEnd {
    const r = this.exp.result();
    return {
      id: String(this.first.id),
      endLsn: r.endLsn.toString(),
      startLsn: r.startLsn.toString(),
      lockSeconds: r.lockMs / 1000,
      deltaBytes: r.deltaBytes,
      tables: this.tables.map((t) => ({
        database: t.database,
        name: t.name,
        tablespaces: r.tablespaces
          .filter((s) => t.files.includes(s.file + DELTA_SUFFIX))
          .map(({ table: _, ...s }) => s),
      })),
      ...this.opts.atLock?.endFields(),
    };
  }

  async close(): Promise<void> {
    await this.exp.close();
    await this.session.close();
  }
}

/** A CREATE TABLE statement without its `AUTO_INCREMENT=N` (which every insert moves). */
export function withoutAutoIncrement(create: string): string {
  return create.replace(/ AUTO_INCREMENT=\d+/, "");
}
