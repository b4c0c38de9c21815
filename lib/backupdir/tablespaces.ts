/**
 * Tablespace files validated where they lie, as a source for the file engine
 * (which reads them by path, several at once, rather than as a stream): a
 * backup directory (its manifest required, its entries checked against it), a
 * stopped server's data directory (a running server's is said), or files named
 * on the command line. Each says what it holds as the walk goes, so no list of
 * every file is made.
 */
import fs from "node:fs";
import { CorruptionError, UsageError } from "../errors.ts";
import { type Manifest, MANIFEST_FILE } from "../core/manifest.ts";
import { readManifest } from "../core/manifest_io.ts";
import { incompleteNote } from "../core/write_journal.ts";
import type { CompletenessReport } from "../core/completeness.ts";
import { type Found, walkBackupDir, walkDatadir, walkPaths } from "../innodb/discover.ts";
import { serverHoldingDatadir } from "../innodb/datadir_lock.ts";
import { dirCompleteness } from "./check.ts";

/** Tablespace files in place. */
export interface TablespaceFiles {
  /** The directory they are under ("" for files named one by one). */
  readonly root: string;
  /** The backup's manifest (a backup directory). */
  readonly manifest?: Manifest;
  /** Missing, truncated, altered and unexpected entries against the manifest (a backup directory). */
  readonly completeness?: CompletenessReport;
  /** What there is, found one by one: tablespaces, other files, files skipped with a reason. */
  found(): Iterable<Found>;
}

function requireDir(dir: string, what: string): void {
  let st: fs.Stats;
  try {
    st = fs.statSync(dir);
  } catch {
    throw new UsageError(`${what} ${dir} does not exist`);
  }
  if (!st.isDirectory()) throw new UsageError(`${what} ${dir} is not a directory`);
}

/**
 * A backup directory: it must hold its manifest (written last, so a directory
 * without one is an incomplete backup: CorruptionError); its entries are checked
 * against the manifest when it opens.
 */
export async function backupDirTablespaces(dir: string): Promise<TablespaceFiles> {
  requireDir(dir, "backup directory");
  const manifest = await readManifest(dir);
  if (!manifest) {
    throw new CorruptionError(
      `${dir} is not a valid backup: it has no ${MANIFEST_FILE} (the backup is ` +
        `incomplete, or this is not a backup directory); to check its .ibd files anyway, ` +
        `give --datadir=${dir} or the files themselves${await incompleteNote(dir)}`,
    );
  }
  const completeness = await dirCompleteness(dir, manifest);
  return { root: dir, manifest, completeness, found: () => walkBackupDir(dir) };
}

/** A stopped server's data directory (`warn` is told when a running server holds it). */
export async function datadirTablespaces(
  dir: string,
  warn: (message: string) => void,
): Promise<TablespaceFiles> {
  requireDir(dir, "data directory");
  const server = await serverHoldingDatadir(dir);
  if (server !== undefined) {
    warn(
      `${dir} is in use by a running server (process ${server} holds ibdata1): ` +
        "pages being written meanwhile may be reported as torn; validate a stopped " +
        "server's files or a backup for a clean verdict",
    );
  }
  return { root: dir, found: () => walkDatadir(dir) };
}

/** The tablespaces under a backup directory already opened (no checks of its own). */
export function backupDirFiles(dir: string): TablespaceFiles {
  return { root: dir, found: () => walkBackupDir(dir) };
}

/** Files named one by one (tablespaces by name or by content; the rest are listed). */
export function listedTablespaces(paths: string[]): TablespaceFiles {
  return { root: "", found: () => walkPaths(paths) };
}
