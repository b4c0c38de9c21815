/**
 * `--backup-dir` naming a directory prepared by `mariadb-backup --prepare
 * --export` (no ibvault manifest, an `xtrabackup_checkpoints`): opened as a
 * foreign source with the table definitions of `--ddl-file` or
 * `--create-from-server`.
 */
import type { CommandContext } from "./command.ts";
import { definitionResolver } from "./definitions.ts";
import { UsageError } from "../errors.ts";
import { readManifest } from "../core/manifest_io.ts";
import {
  type ForeignSource,
  isForeignBackupDir,
  openForeignSource,
} from "../backupdir/foreign_source.ts";

/** The foreign source of `--backup-dir`, or undefined when it is not such a directory. */
export async function openForeignOption(ctx: CommandContext): Promise<ForeignSource | undefined> {
  const o = ctx.options;
  const dir = o.backupDir;
  const wanted = o.ddlFile !== undefined || o.createFromServer;
  if (!dir || o.backupImage || await readManifest(dir) || !(await isForeignBackupDir(dir))) {
    if (wanted) {
      throw new UsageError(
        "--ddl-file and --create-from-server apply to copy-back from a mariadb-backup " +
          "--prepare --export directory (--backup-dir without an ibvault manifest)",
      );
    }
    return undefined;
  }
  const defs = await definitionResolver(o);
  try {
    const source = await openForeignSource(dir, defs.resolve);
    for (const n of source.notes) ctx.report.warn(n);
    return source;
  } finally {
    await defs.done();
  }
}
