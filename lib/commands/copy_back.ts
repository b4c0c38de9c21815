/**
 * `copy-back`: selective restore of tables from a backup directory, an image file
 * or an image on stdin into a running server, by transportable tablespaces. The
 * plan (selection, renames, compatibility, existing targets) is checked before
 * anything is touched; then the source is piped into the restore sink, which
 * stages, checks and imports one table at a time. The run reports which tables
 * were restored.
 */
import type { Connection } from "mysql2/promise";
import type { Command, CommandContext } from "./command.ts";
import { DISCARD_STEP, prepareImportSession } from "../server/import.ts";
import { CONNECTION_OPTIONS, IMAGE_READ_OPTIONS } from "./options.ts";
import { definerOption, renamesOf, selectionSpec } from "./selection.ts";
import { openSource } from "./open_source.ts";
import { openForeignOption } from "./foreign_option.ts";
import { openChainOption } from "./chain_option.ts";
import { reported, type RunReport } from "./run_report.ts";
import { imageWorkDir } from "./work_dir.ts";
import { finishCopyBack } from "./copy_back_report.ts";
import { connect, endQuietly } from "../server/connection.ts";
import { readServerFacts } from "../server/facts.ts";
import { selectRestoreTables, splitRenames } from "../server/restore_plan.ts";
import { createPlannedObjects, prepareRestore } from "../server/restore_prepare.ts";
import { partitionFilter } from "../server/partitions.ts";
import { describeBinlog } from "../server/binlog.ts";
import {
  openRestoreSink,
  removeStaleStages,
  type RestoreSink,
  STAGE_PREFIX,
} from "../server/restore_sink.ts";

/** The work of `copy-back` under its run report (`copy-back-and-apply-log` runs it too). */
export async function copyBackRun(ctx: CommandContext, rep: RunReport): Promise<number> {
  const o = ctx.options;
  const spec = selectionSpec(o);
  const renames = renamesOf(o);
  const definer = definerOption(o.definer);
  const partitions = o.includePartitions === undefined
    ? undefined
    : partitionFilter(o.includePartitions);
  // A mariadb-backup --prepare --export directory, an incremental chain, or an ibvault backup.
  const foreign = await openForeignOption(ctx);
  const source = foreign ?? (await openChainOption(ctx, "copy-back")) ??
    await openSource(ctx, "copy-back");
  // The run log: in the working directory beside an image, else in the backup directory.
  const logDir = imageWorkDir(o) ?? (o.backupImage === undefined ? o.backupDir : undefined);
  if (logDir !== undefined) ctx.log?.openIn(logDir);
  let conn: Connection | undefined;
  let sink: RestoreSink | undefined;
  try {
    const split = splitRenames(source.manifest, renames);
    const selected = selectRestoreTables(
      source.manifest,
      { ...spec, renames: split.tables },
      split.databases,
    );
    foreign?.requireDefinitions(selected.map((t) => t.source));
    if (source.manifest.binlog) {
      ctx.report.info(
        `binary log position of the backup: ${describeBinlog(source.manifest.binlog)}`,
      );
    }
    if (source.kind === "directory") {
      await source.requireFiles(selected.flatMap((t) => t.source.files));
    }
    conn = await connect(o);
    const facts = await readServerFacts(conn, { datadir: o.datadir });
    ctx.log?.note(`server: ${facts.version} (${facts.flavor}), datadir ${facts.datadir}`);
    if (o.datadir !== undefined) {
      // MEB's --datadir names a stopped server's directory to fill; here the server runs.
      ctx.report.info(
        `note: --datadir=${o.datadir}: copy-back imports into the running server; the ` +
          "tables' files are placed there, as the server's data directory seen from here",
      );
    }
    await removeStaleStages(facts.datadir, ctx.report.warn);
    const prepared = await prepareRestore(conn, {
      facts,
      manifest: source.manifest,
      selected,
      databaseRenames: split.databases,
      force: o.force,
      skipExisting: o.skipExisting,
      definerCurrentUser: definer,
      partitions,
      report: ctx.report,
    });
    await prepareImportSession(conn);
    sink = await openRestoreSink({
      conn,
      facts,
      plan: prepared.plan,
      report: ctx.report,
      verbose: o.verbose,
      force: o.force,
      signal: ctx.signal,
    });
    const summary = await sink.write(source);
    const objects = summary.lost
      ? []
      : await createPlannedObjects(conn, prepared, source.manifest, ctx.report, ctx.signal);
    return finishCopyBack(ctx, rep, source, facts, summary, objects);
  } finally {
    await sink?.close();
    await source.close().catch(() => {});
    if (conn) await endQuietly(conn);
  }
}

/** Run `copy-back`. */
export const runCopyBack = reported("copy-back", copyBackRun);

/** The `copy-back` command. */
export const copyBackCommand: Command = {
  name: "copy-back",
  summary: "restore selected tables from a backup dir or image (or stdin) into a running server",
  usage: "--backup-dir=DIR | --backup-image=FILE|- [--include-tables=REGEX] " +
    '[--rename "OLD TO NEW" ...] [OPTIONS]',
  help: `Imports tables into the running server by transportable tablespaces: for each
table CREATE TABLE from the recorded statement (under its new name with --rename),
${DISCARD_STEP}, its .ibd and .cfg placed in the data directory
with the owner and mode of the server's files, ALTER TABLE ... IMPORT TABLESPACE,
ANALYZE TABLE. FULLTEXT indexes, which InnoDB cannot import, are dropped, the table
rebuilt and the indexes created again (on a large table this takes a while). ibvault must run on the database host, as a user who may write the
data directory (--datadir if the server sees it under another path).

--include-tables and --exclude-tables select tables of the backup (four quoting
forms, as in backup). --rename "OLD TO NEW" (repeatable) restores OLD (tbl or
db.tbl, a selected table) as NEW; either part may be quoted with backticks, single
or double quotes; NEW's database is created when missing, with the options of the
original database. --default-character-set says how the command line is encoded.

Whole databases: logical tables (DB/TABLE.sql) are created and loaded; MEMORY
tables created empty; partitioned tables restored partition by partition (on
MariaDB through a staging table and ALTER TABLE ... EXCHANGE PARTITION), and
--include-partitions=REGEX restores only matching partitions (name, subpartition
or p/sp) into the existing table, whose receiving partitions must be empty (or
--force). Then functions and procedures, views (view-on-view order), triggers and
events, each with its recorded DEFINER and context; --definer=CURRENT_USER
replaces definers without an account on the server. Views, routines and events
come with a database when all its tables are restored. --rename 'OLD TO NEW' with
two bare names renames a whole database and rewrites references to it in views,
triggers, routines, events and foreign keys. A foreign key that would dangle is
named before anything is touched (--force restores anyway).

Nothing is overwritten: if a target table (or a file of it) or object exists, or
the backup cannot be imported (other server flavour or page size), the run stops
before touching anything and names every problem; --skip-existing leaves
existing tables and objects alone and restores the rest.
--force allows only these format adjustments: importing a table the backup
holds no .cfg for at all (its manifest lists none, e.g. an image of plain
files; no schema verification), and creating a table with its recorded
ROW_FORMAT when the server's innodb_default_row_format differs. A .cfg the
manifest lists but that is missing from the backup makes the backup
incomplete, which --force does not override: copy the file back from another
copy of the backup.

Each table is staged in ${STAGE_PREFIX}* inside the data directory (one table at a
time, also from a stream), its pages and CRC-32C checked, then imported. A table
that fails is dropped with its files, so the server is as before; the others go
on. The run ends with "ibvault completed OK!" only if every table was restored.

With --backup-image, --backup-dir=DIR is MEB's working directory: temporary
files and the run log (DIR/meta/) go there, made if missing; the image is the
source.

--backup-dir may also be a directory prepared by mariadb-backup --prepare --export
(.ibd + .cfg + .frm per table, no ibvault manifest). ibvault does not read .frm
files, so the definitions come from --ddl-file=FILE (CREATE TABLE statements, e.g.
from mariadb-dump --no-data) or --create-from-server (the same table's definition on
the target server); tables of mysql, sys and performance_schema are left out.`,
  optionHelp: {
    force: "allow the adjustments named above (no .cfg in the backup, ROW_FORMAT, a " +
      "dangling foreign key, DATA/INDEX DIRECTORY inside the data directory); never " +
      "overwrites, and does not make an incomplete backup (a listed file missing) restorable",
  },
  options: [
    "backup-dir",
    "backup-image",
    ...CONNECTION_OPTIONS,
    "datadir",
    "include-tables",
    "exclude-tables",
    "rename",
    "default-character-set",
    "include-partitions",
    "definer",
    "skip-existing",
    ...IMAGE_READ_OPTIONS,
    "ddl-file",
    "create-from-server",
    "force",
    "incremental-backup-dir",
    "incremental-backup-image",
  ],
  run: runCopyBack,
};
