/**
 * The manifest: what a backup holds, and the one place a manifest is built. The
 * same JSON document sits in a backup directory (`ibvault_manifest.json`, written
 * last, so its presence means the backup is complete) and inside an image (as its
 * first record).
 */
import { VERSION } from "../version.ts";
import type { Definer } from "../names/sql_rewrite.ts";
import { tableLabel } from "./label.ts";
import type { ServerIdentity } from "./identity.ts";

/** File name of the manifest inside a backup directory (and of an image's first entry). */
export const MANIFEST_FILE = "ibvault_manifest.json";

/** Facts about the server a backup was taken from (or a restore goes to). */
export interface ServerFacts {
  flavor: "mariadb" | "mysql";
  /** `SELECT VERSION()`, e.g. `10.11.6-MariaDB-0+deb12u1`. */
  version: string;
  /** `version_comment`, when read from the server. */
  versionComment?: string;
  /** innodb_page_size in bytes. */
  pageSize: number;
  /** innodb_checksum_algorithm as the server reports it (crc32, full_crc32, strict_crc32, ...). */
  checksumAlgorithm: string;
  lowerCaseTableNames: number;
  /** The data directory (without a trailing slash), as the server or --datadir says. */
  datadir: string;
  /** innodb_file_per_table, when read from the server. */
  innodbFilePerTable?: boolean;
  /** innodb_default_row_format in lower case (`dynamic`), when read from the server. */
  innodbDefaultRowFormat?: string;
}

/** A database of the backup, with what recreates it. */
export interface DatabaseRecord {
  /** Unicode name. */
  name: string;
  /** Filename-encoded directory name. */
  dir: string;
  /** `SHOW CREATE DATABASE` output. */
  createStatement: string;
}

/** A table of the backup. */
export interface TableRecord {
  database: string;
  name: string;
  engine: string;
  rowFormat?: string;
  /** `SHOW CREATE TABLE` output. */
  createStatement: string;
  /** Entry paths of its files (`.ibd`, `.cfg`, partitions), relative to the backup root. */
  files: string[];
  /**
   * How it travels: `tts` (absent means tts) its tablespace files; `logical` its rows
   * in one `DB/TABLE.sql` entry (docs/FORMAT.md, "Logical tables"), for what TTS
   * cannot carry; `definition` the CREATE TABLE alone (MEMORY).
   */
  method?: "tts" | "logical" | "definition";
}

/** The kinds of database objects a backup carries besides tables. */
export type ObjectKind = "view" | "trigger" | "procedure" | "function" | "event";

/** A database object as the backup records it. */
export interface ObjectRecord {
  kind: ObjectKind;
  database: string;
  name: string;
  /** Triggers: the table the trigger belongs to. */
  table?: string;
  /** `SHOW CREATE ...` output (for a trigger: its "SQL Original Statement"). */
  createStatement: string;
  /** sql_mode the object was created under (not recorded for views by the server). */
  sqlMode?: string;
  characterSetClient: string;
  collationConnection: string;
  /** Routines, triggers, events: the database's collation when they were created. */
  databaseCollation?: string;
  /** Events: the time zone their schedule is in. */
  timeZone?: string;
  /** The DEFINER clause, when the statement has one. */
  definer?: Definer;
}

/** Something the selection matched that the backup does not hold, and why. */
export interface SkippedRecord {
  kind: "table" | ObjectKind;
  database: string;
  name: string;
  reason: string;
}

/** Where in the binary log the backup was taken (read while its tables were locked). */
export interface BinlogPosition {
  flavor: "mariadb" | "mysql";
  /** Binary logging was on (SHOW MASTER STATUS returned a row). */
  enabled: boolean;
  /** Current binary log file (`mysql-bin.000003`), when enabled. */
  file?: string;
  /** Position in that file, when enabled. */
  position?: number;
  /** MariaDB `@@gtid_binlog_pos`: the last GTID written to the binary log per domain. */
  gtidBinlogPos?: string;
  /** MariaDB `@@gtid_current_pos`: the last GTID applied, written or replicated, per domain. */
  gtidCurrentPos?: string;
  /** MySQL `@@gtid_executed` (or the status row's Executed_Gtid_Set). */
  gtidExecuted?: string;
  /** The source server's `@@server_id`. */
  serverId?: number;
}

/** One file of the backup with what proves it whole. */
export interface EntryRecord {
  path: string;
  size: number;
  /** CRC-32C of the whole content, 8 lowercase hex digits. */
  crc32c: string;
}

/** The manifest fields of backup identity and chains (top level of the manifest). */
export interface ChainFields {
  /** Random UUID made when the backup starts. */
  id?: string;
  /** Absent means full. */
  kind?: "full" | "incremental";
  /** Incremental only: the backup it continues. */
  base?: { id: string; endLsn: string };
  /** Decimal LSN a later incremental continues from (the current LSN read under the lock). */
  endLsn?: string;
  /** Checkpoint LSN read before the hot pass (the threshold of the locked delta). */
  startLsn?: string;
  /** The server's identity (also under `server.identity`). */
  identity?: ServerIdentity;
  /** Tables of the base that this incremental no longer has. */
  gone?: { database: string; name: string; reason: string }[];
}

/** The manifest document (with its identity and chain fields, written by the backup engine). */
export interface Manifest extends ChainFields {
  format: "ibvault-manifest";
  version: 1;
  tool: { name: "ibvault"; version: string };
  createdAt: string;
  /** Absent for a directory imaged as plain files. */
  server?: ServerFacts;
  /**
   * Images only, set by the image writer: how its DATA chunks are compressed
   * (absent: LZ4 if at all). Decides the framing of `extract --keep-compressed`.
   */
  compression?: { method: "lz4" | "zstd"; level?: number };
  /**
   * Streamed images (`backup-to-image`, whose entry list is empty): the bytes of
   * tablespace the export planned to copy, for progress percent and ETA only
   * (the image's records are what counts).
   */
  plannedBytes?: number;
  /** Options the backup was taken with (never keys or passwords). */
  options: Record<string, unknown>;
  databases: DatabaseRecord[];
  tables: TableRecord[];
  /** Views, triggers, routines and events of the selected databases (absent: none recorded). */
  objects?: ObjectRecord[];
  /** What the selection matched and the backup does not hold, with the reason. */
  skipped?: SkippedRecord[];
  /** The binary log position at the lock (absent in backups made before it was recorded). */
  binlog?: BinlogPosition;
  entries: EntryRecord[];
}

/** What a manifest says beyond the fixed fields (format, version, tool, time). */
export interface ManifestContent {
  server?: ServerFacts;
  options: Record<string, unknown>;
  databases?: DatabaseRecord[];
  tables?: TableRecord[];
  objects?: ObjectRecord[];
  skipped?: SkippedRecord[];
  binlog?: BinlogPosition;
  /** Empty for a streamed manifest (written before its entries, see {@link isStreamed}). */
  entries?: EntryRecord[];
}

/** Build a manifest (created now, by this ibvault): the only place one is made. */
export function buildManifest(content: ManifestContent): Manifest {
  const m: Manifest = {
    format: "ibvault-manifest",
    version: 1,
    tool: { name: "ibvault", version: VERSION },
    createdAt: new Date().toISOString(),
    options: content.options,
    databases: content.databases ?? [],
    tables: content.tables ?? [],
    ...(content.objects ? { objects: content.objects } : {}),
    ...(content.skipped ? { skipped: content.skipped } : {}),
    ...(content.binlog ? { binlog: content.binlog } : {}),
    entries: content.entries ?? [],
  };
  return content.server ? withServer(m, content.server) : m;
}

/** `m` with the server facts placed after `createdAt`, as manifests always show them. */
function withServer(m: Manifest, server: ServerFacts): Manifest {
  const { format, version, tool, createdAt, ...rest } = m;
  return { format, version, tool, createdAt, server, ...rest };
}

/**
 * True when the manifest lists no entries because it was written before them:
 * a backup streamed into an image writes its manifest (the image's first record)
 * with an empty entry list, and the image's own entry records, end record and
 * per-chunk checks are what prove it whole.
 */
export function isStreamed(manifest: Manifest): boolean {
  return manifest.entries.length === 0;
}

/**
 * Bytes a reader of this backup will see, for progress: the listed entries, or
 * for a streamed image its `plannedBytes`; undefined when unknown.
 */
export function expectedBytes(m: Manifest): number | undefined {
  const listed = m.entries.reduce((s, e) => s + e.size, 0);
  return listed > 0 ? listed : m.plannedBytes || undefined;
}

/** The manifest with `entries` listed (a streamed manifest completed by what was read). */
export function withEntries(manifest: Manifest, entries: EntryRecord[]): Manifest {
  return { ...manifest, entries };
}

/** The manifest as the bytes written to a file or an image. */
export function encodeManifest(manifest: Manifest): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(manifest, null, 1) + "\n");
}

/**
 * Parse manifest text; throws a plain Error saying why when it is not an ibvault
 * manifest (callers add where it came from and the error kind).
 */
export function parseManifest(text: string): Manifest {
  const m = JSON.parse(text) as Manifest;
  if (m?.format !== "ibvault-manifest" || !Array.isArray(m.entries)) {
    throw new Error("not an ibvault manifest");
  }
  return m;
}

/** Map entry path → table label (`` `db`.`tbl` ``) from the manifest's table records. */
export function tablesByEntry(m: Manifest): Map<string, string> {
  const out = new Map<string, string>();
  for (const t of m.tables ?? []) {
    for (const f of t.files ?? []) out.set(f, tableLabel(t.database, t.name));
  }
  return out;
}
