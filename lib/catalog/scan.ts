/**
 * The backups in a root directory, as retention and monitoring see them: every
 * ibvault backup directory (one holding `ibvault_manifest.json`) and image
 * (`*.ibv`, or a file starting with an ibvault magic) directly under the root,
 * with its manifest's identity and chain fields, and a cheap soundness verdict;
 * and every work directory (one holding nothing but ibvault run logs under
 * `meta/`, as `backup-to-image --with-timestamp` leaves beside the image it
 * writes elsewhere). Everything else is listed as left alone, with the reason.
 */
import { lstat, open, readdir, stat } from "node:fs/promises";
import { join } from "node:path";
import { CorruptionError, IbvaultError, KeyError } from "../errors.ts";
import { type Manifest, MANIFEST_FILE } from "../core/manifest.ts";
import type { BackupOpener } from "../source.ts";
import {
  END_PAYLOAD_SIZE,
  MAGIC_ENCRYPTED,
  MAGIC_PLAIN,
  RECORD_HEADER_SIZE,
  RecordType,
} from "../image/format.ts";
import { decodeRecordHeader } from "../image/format.ts";
import { PART_SUFFIX } from "../core/files.ts";
import { isRunLogPath, RUN_LOG_DIR } from "../core/run_log_path.ts";

/** Suffix of a backup being deleted by purge-backups (renamed first, then removed). */
export const PURGING_SUFFIX = ".ibvault-purging";

/** One backup found in a root. */
export interface FoundBackup {
  /** Its name in the root (a directory or a file). */
  name: string;
  path: string;
  form: "directory" | "image";
  /** Absent when it could not be read (see `unreadable`). */
  manifest?: Manifest;
  /** The manifest's `createdAt`; the file's modification time when there is no manifest. */
  createdAt: Date;
  /** Manifest `id` (a UUID), when the backup has one. */
  id?: string;
  kind: "full" | "incremental";
  /** Incremental only: the `id` of the backup it continues. */
  baseId?: string;
  /** Bytes of its files (entries of a directory, the file size of an image). */
  bytes: number;
  tables: number;
  encrypted: boolean;
  /** "encrypted": no key was given to read it; "damaged": its header or manifest is unreadable. */
  unreadable?: "encrypted" | "damaged";
  /** Undefined when the cheap check passes; otherwise why the backup is not sound. */
  problem?: string;
}

/** A name in the root that is not an ibvault backup, with the reason it is left alone. */
export interface LeftAlone {
  name: string;
  reason: string;
}

/** A directory that holds only ibvault run logs (the working directory of an image run). */
export interface WorkDir {
  name: string;
  path: string;
  /** When its newest run log was last written. */
  lastRun: Date;
}

/** What a root holds. */
export interface RootScan {
  backups: FoundBackup[];
  /** Oldest first. */
  workDirs: WorkDir[];
  leftAlone: LeftAlone[];
  /** Backups an interrupted purge had already renamed for deletion. */
  purging: string[];
}

/** The chain fields of a manifest (written by the engine; absent means a full backup). */
export function chainOf(
  m: Manifest,
): { id?: string; kind: "full" | "incremental"; baseId?: string } {
  const r = m as unknown as Record<string, unknown>;
  const id = typeof r.id === "string" ? r.id : undefined;
  const kind = r.kind === "incremental" ? "incremental" : "full";
  const base = r.base as { id?: unknown } | undefined;
  const baseId = base && typeof base.id === "string" ? base.id : undefined;
  return { id, kind, baseId };
}

function createdAtOf(m: Manifest, fallback: Date): Date {
  const d = new Date(m.createdAt);
  return Number.isNaN(d.getTime()) ? fallback : d;
}

async function magicOf(path: string): Promise<"plain" | "encrypted" | undefined> {
  const fh = await open(path, "r");
  try {
    const b = new Uint8Array(8);
    const { bytesRead } = await fh.read(b, 0, 8, 0);
    if (bytesRead < 8) return undefined;
    const is = (m: Uint8Array) => m.every((x, i) => x === b[i]);
    return is(MAGIC_PLAIN) ? "plain" : is(MAGIC_ENCRYPTED) ? "encrypted" : undefined;
  } finally {
    await fh.close();
  }
}

/**
 * True when the file ends with an END record (plain: 32-byte payload; encrypted:
 * IV + padded payload + MAC tag). Cheap: reads only the tail; an image cut off
 * mid-stream fails it. The full check (every chunk) is `check-backup`'s job.
 */
export async function endsWithEndRecord(path: string, encrypted: boolean): Promise<boolean> {
  const stored = encrypted ? 16 + (END_PAYLOAD_SIZE + 16) + 32 : END_PAYLOAD_SIZE;
  const fh = await open(path, "r");
  try {
    const size = (await fh.stat()).size;
    const at = size - RECORD_HEADER_SIZE - stored;
    if (at < 0) return false;
    const b = new Uint8Array(RECORD_HEADER_SIZE);
    await fh.read(b, 0, RECORD_HEADER_SIZE, at);
    const h = decodeRecordHeader(b);
    return h.type === RecordType.END && h.storedLen === stored && h.rawLen === END_PAYLOAD_SIZE;
  } finally {
    await fh.close();
  }
}

/** Every listed entry present with its size (stat only: no content is read). */
async function dirProblem(dir: string, m: Manifest): Promise<string | undefined> {
  for (const e of m.entries) {
    let size: number;
    try {
      size = (await lstat(join(dir, ...e.path.split("/")))).size;
    } catch {
      return `missing entry: ${e.path}`;
    }
    if (size !== e.size) return `entry ${e.path} has ${size} bytes, the manifest says ${e.size}`;
  }
  return undefined;
}

/** Read one backup directory (it holds a manifest), opened by `opener`, into a {@link FoundBackup}. */
export async function readBackupDir(
  path: string,
  opener: BackupOpener,
  name = path,
): Promise<FoundBackup> {
  const mtime = (await stat(path)).mtime;
  const base = { name, path, form: "directory" as const, encrypted: false };
  let manifest: Manifest;
  try {
    const source = await opener.open(path, "directory");
    manifest = source.manifest;
    await source.close();
  } catch (e) {
    return {
      ...base,
      createdAt: mtime,
      kind: "full",
      bytes: 0,
      tables: 0,
      unreadable: "damaged",
      problem: (e as Error).message,
    };
  }
  return {
    ...base,
    manifest,
    createdAt: createdAtOf(manifest, mtime),
    ...chainOf(manifest),
    bytes: manifest.entries.reduce((s, e) => s + e.size, 0),
    tables: manifest.tables?.length ?? 0,
    problem: await dirProblem(path, manifest),
  };
}

/**
 * Read one image's header and manifest, opened by `opener` (an encrypted one needs
 * its key), into a {@link FoundBackup}. A file without an ibvault magic throws
 * CorruptionError.
 */
export async function readImageFile(
  path: string,
  opener: BackupOpener,
  name = path,
): Promise<FoundBackup> {
  const st = await stat(path);
  const magic = await magicOf(path);
  if (!magic) throw new CorruptionError(`${path}: not an ibvault image (bad magic number)`);
  const encrypted = magic === "encrypted";
  const base = { name, path, form: "image" as const, encrypted, bytes: st.size };
  const without = (unreadable: "encrypted" | "damaged", problem: string): FoundBackup => ({
    ...base,
    createdAt: st.mtime,
    kind: "full",
    tables: 0,
    unreadable,
    problem,
  });
  if (encrypted && !opener.hasKey) {
    return without("encrypted", `${path} is encrypted: give --key-file to read it`);
  }
  let manifest: Manifest;
  try {
    const opened = await opener.open(path, "image", { mode: "check" });
    manifest = opened.manifest;
    await opened.close();
  } catch (e) {
    if (e instanceof KeyError) return without("encrypted", e.message);
    if (e instanceof IbvaultError) return without("damaged", e.message);
    throw e;
  }
  const ended = await endsWithEndRecord(path, encrypted);
  return {
    ...base,
    manifest,
    createdAt: createdAtOf(manifest, st.mtime),
    ...chainOf(manifest),
    tables: manifest.tables?.length ?? 0,
    problem: ended ? undefined : `${path} does not end with an end record (truncated?)`,
  };
}

/**
 * The time of the newest run log when `path` holds nothing but `meta/` with
 * ibvault run logs in it (regular files, no links), else undefined.
 */
async function workDirLastRun(path: string): Promise<Date | undefined> {
  const names = await readdir(path);
  if (names.length !== 1 || names[0] !== RUN_LOG_DIR) return undefined;
  const meta = join(path, RUN_LOG_DIR);
  if (!(await lstat(meta)).isDirectory()) return undefined;
  let last: Date | undefined;
  for (const name of await readdir(meta)) {
    const st = await lstat(join(meta, name));
    if (!st.isFile() || !isRunLogPath(`${RUN_LOG_DIR}/${name}`)) return undefined;
    if (!last || st.mtime > last) last = st.mtime;
  }
  return last;
}

/**
 * Scan `root`: backups directly under it (each read through `opener`), oldest
 * first, and what was left alone. Symbolic links are never followed; files still
 * being written (`.ibvault-part`) are left alone.
 */
export async function scanRoot(root: string, opener: BackupOpener): Promise<RootScan> {
  const backups: FoundBackup[] = [];
  const workDirs: WorkDir[] = [];
  const leftAlone: LeftAlone[] = [];
  const purging: string[] = [];
  for (const name of (await readdir(root)).sort()) {
    const path = join(root, name);
    const st = await lstat(path);
    if (name.endsWith(PURGING_SUFFIX) && st.isDirectory()) {
      purging.push(name);
    } else if (st.isSymbolicLink()) {
      leftAlone.push({ name, reason: "a symbolic link (never followed)" });
    } else if (name.endsWith(PART_SUFFIX)) {
      leftAlone.push({ name, reason: "still being written (or left by an interrupted run)" });
    } else if (st.isDirectory()) {
      let has = false;
      try {
        has = (await lstat(join(path, MANIFEST_FILE))).isFile();
      } catch { /* no manifest */ }
      const lastRun = has ? undefined : await workDirLastRun(path).catch(() => undefined);
      if (has) backups.push(await readBackupDir(path, opener, name));
      else if (lastRun) workDirs.push({ name, path, lastRun });
      else leftAlone.push({ name, reason: `a directory without ${MANIFEST_FILE}: not a backup` });
    } else if (st.isFile()) {
      const magic = await magicOf(path).catch(() => undefined);
      if (magic) backups.push(await readImageFile(path, opener, name));
      else if (name.endsWith(".ibv")) {
        leftAlone.push({ name, reason: "named .ibv but has no ibvault magic: not an image" });
      } else leftAlone.push({ name, reason: "not an ibvault image" });
    } else {
      leftAlone.push({ name, reason: "not a regular file or directory" });
    }
  }
  backups.sort((a, b) =>
    a.createdAt.getTime() - b.createdAt.getTime() || (a.name < b.name ? -1 : 1)
  );
  workDirs.sort((a, b) => a.lastRun.getTime() - b.lastRun.getTime());
  return { backups, workDirs, leftAlone, purging };
}
