/**
 * A directory prepared by `mariadb-backup --prepare --export` (or `xtrabackup
 * --prepare --export`) as a {@link Source}: it has no ibvault manifest, so one is
 * built from what is there, and then it restores like any backup. Its
 * `xtrabackup_checkpoints` must say the redo log was applied (`backup_type =
 * log-applied` or `full-prepared`); server facts come from `xtrabackup_info`
 * (server version) and `backup-my.cnf` (page size, checksum algorithm); every
 * `db/t.ibd` outside the system databases (`mysql`, `sys`,
 * `performance_schema`) is a table, with the `.cfg` that `--export` wrote beside
 * it; databases take their character set from `db.opt`. Partitioned tables are
 * left out (and said so).
 *
 * Table definitions: ibvault does not read `.frm` files (a binary format with
 * many versions; reading it reliably is more than this needs), so each table's
 * CREATE statement comes from the caller's resolver (`--ddl-file`, or
 * `--create-from-server`); selecting a table without one is refused by name.
 * The directory holds no checksums of its own: pages are checked while staged.
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { UsageError } from "../errors.ts";
import { buildManifest, type DatabaseRecord, type TableRecord } from "../core/manifest.ts";
import { label } from "../core/label.ts";
import { decodeFilename, parseTableFilename } from "../names/filename.ts";
import { quoteIdentifier } from "../names/quote.ts";
import { dirReading, type DirSource } from "./source.ts";
import { type FoundFile, walkFiles } from "./walk.ts";

/** Databases whose tables are never taken from a foreign directory. */
const SYSTEM = new Set(["mysql", "sys", "performance_schema", "information_schema"]);

/** Gives the CREATE TABLE statement of a table, or undefined when unknown. */
export type DefinitionResolver = (database: string, table: string) => Promise<string | undefined>;

/** A prepared export directory opened as a source. */
export interface ForeignSource extends DirSource {
  /** What the user should be told about the directory (tables left out). */
  readonly notes: string[];
  /** Throw a UsageError naming every one of these tables that has no definition. */
  requireDefinitions(tables: readonly { database: string; name: string }[]): void;
}

async function text(dir: string, name: string): Promise<string | undefined> {
  try {
    return await readFile(join(dir, name), "utf8");
  } catch {
    return undefined;
  }
}

function keyValues(s: string | undefined): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of (s ?? "").split("\n")) {
    const m = /^\s*([A-Za-z0-9_-]+)\s*=\s*(.*?)\s*$/.exec(line);
    if (m) out.set(m[1].replace(/-/g, "_").toLowerCase(), m[2]);
  }
  return out;
}

/** True when `dir` is a mariadb-backup/xtrabackup target directory (it has `xtrabackup_checkpoints`). */
export async function isForeignBackupDir(dir: string): Promise<boolean> {
  return (await text(dir, "xtrabackup_checkpoints")) !== undefined;
}

async function databaseRecord(dir: string, encoded: string): Promise<DatabaseRecord> {
  const name = decodeFilename(encoded);
  const opt = keyValues(await text(dir, `${encoded}/db.opt`));
  const cs = opt.get("default_character_set");
  const co = opt.get("default_collation");
  return {
    name,
    dir: encoded,
    createStatement: `CREATE DATABASE ${quoteIdentifier(name)}` +
      (cs ? ` /*!40100 DEFAULT CHARACTER SET ${cs}${co ? ` COLLATE ${co}` : ""} */` : ""),
  };
}

/** The tables of the directory (definitions from `resolve`) and how many partition files were left out. */
async function tablesOf(
  dir: string,
  files: readonly FoundFile[],
  resolve: DefinitionResolver,
): Promise<{ databases: DatabaseRecord[]; tables: TableRecord[]; partitions: number }> {
  const paths = new Set(files.map((f) => f.path));
  const databases: DatabaseRecord[] = [];
  const tables: TableRecord[] = [];
  let partitions = 0;
  for (const f of files) {
    const parts = f.path.split("/");
    if (parts.length !== 2 || !parts[1].endsWith(".ibd")) continue;
    if (SYSTEM.has(decodeFilename(parts[0]))) continue;
    const stem = parts[1].slice(0, -4);
    const t = parseTableFilename(stem);
    if (t.temporary) continue;
    if (t.partition !== undefined) {
      partitions++;
      continue;
    }
    if (!databases.some((d) => d.dir === parts[0])) {
      databases.push(await databaseRecord(dir, parts[0]));
    }
    const database = decodeFilename(parts[0]);
    const cfg = `${parts[0]}/${stem}.cfg`;
    tables.push({
      database,
      name: t.table,
      engine: "InnoDB",
      createStatement: (await resolve(database, t.table)) ?? "",
      files: paths.has(cfg) ? [f.path, cfg] : [f.path],
    });
  }
  return { databases, tables, partitions };
}

/** Open the prepared export directory `dir`; `resolve` gives the table definitions. */
export async function openForeignSource(
  dir: string,
  resolve: DefinitionResolver,
): Promise<ForeignSource> {
  const cp = keyValues(await text(dir, "xtrabackup_checkpoints"));
  const type = cp.get("backup_type") ?? "";
  if (type !== "log-applied" && type !== "full-prepared") {
    throw new UsageError(
      `${dir} is a mariadb-backup/xtrabackup directory that is not prepared (backup_type = ` +
        `${type || "?"}): run mariadb-backup --prepare --export --target-dir=${dir} first`,
    );
  }
  const info = keyValues(await text(dir, "xtrabackup_info"));
  const cnf = keyValues(await text(dir, "backup-my.cnf"));
  const version = info.get("server_version") ?? "";
  const tool = info.get("tool_name") || "mariadb-backup";
  const files = await walkFiles(dir, { what: "backup directory" });
  const { databases, tables, partitions } = await tablesOf(dir, files, resolve);
  const notes = partitions
    ? [
      `${dir}: ${partitions} partition tablespaces left out (restore partitioned tables from ` +
      "a mariadb-backup directory by hand, with ALTER TABLE ... EXCHANGE PARTITION)",
    ]
    : [];
  const manifest = buildManifest({
    server: {
      flavor: /mariadb/i.test(version + tool) ? "mariadb" : "mysql",
      version,
      pageSize: Number(cnf.get("innodb_page_size") ?? 16384),
      checksumAlgorithm: cnf.get("innodb_checksum_algorithm") ?? "crc32",
      lowerCaseTableNames: 0,
      datadir: "",
    },
    options: { builtFrom: `${tool} --prepare --export directory` },
    databases,
    tables,
  });
  const defined = new Set(tables.filter((t) => t.createStatement).map((t) => label(t)));
  return {
    kind: "directory",
    name: dir,
    manifest,
    files,
    hadManifest: false,
    notes,
    ...dirReading(dir, files, dir),
    requireDefinitions(wanted) {
      const missing = wanted.map((t) => label(t)).filter((l) => !defined.has(l));
      if (missing.length === 0) return;
      throw new UsageError(
        `no table definition for ${missing.join(", ")}: ibvault does not read mariadb-backup's ` +
          ".frm files; give --ddl-file=FILE (CREATE TABLE statements, e.g. from mariadb-dump " +
          "--no-data) or --create-from-server (the same table's definition on the target server)",
      );
    },
    close: async () => {},
  };
}
