/**
 * What a copy-back will do, decided before anything on the server is touched:
 * which tables of the backup are selected, under which names they are restored
 * (`--rename`), where their files go in the data directory, which databases must
 * be created, and every reason the restore cannot work (page size, server
 * flavour, row format, partitioned tables on MariaDB, target tables or files
 * that already exist). Problems are collected and reported together.
 */
import type { Connection } from "mysql2/promise";
import { stat } from "node:fs/promises";
import type { DatabaseRecord, Manifest, ServerFacts, TableRecord } from "../core/manifest.ts";
import { compileTableFilter } from "../names/filter.ts";
import { encodeFilename } from "../names/filename.ts";
import { quoteIdentifier, quoteTable } from "../names/quote.ts";
import type { Rename } from "../names/rename.ts";
import { ServerError, UsageError } from "../errors.ts";
import { label, type TableName } from "../core/label.ts";

export type { TableName };
import { queryRows } from "./facts.ts";

/** One file of a table: where it is in the backup and where it goes. */
export interface PlannedFile {
  /** Entry path in the backup (`db/@0gbc.ibd`). */
  entry: string;
  /** Path relative to the data directory (`db/new_@0gbc.ibd`); empty for `sql` (rows, loaded). */
  target: string;
  kind: "ibd" | "cfg" | "sql";
}

/** How a planned table is restored. */
export type RestoreMethod = "tts" | "partitions" | "logical" | "definition";

/** A table as it will be restored. */
export interface PlannedTable {
  source: TableRecord;
  target: TableName;
  renamed: boolean;
  /**
   * `tts` imports the tablespace; `partitions` imports each (sub)partition through
   * a staging table (MariaDB) or IMPORT PARTITION (MySQL); `logical` creates the
   * table and loads its rows; `definition` only creates it.
   */
  method: RestoreMethod;
  /** The CREATE TABLE to run (foreign keys pointed at their restored or original tables). */
  createStatement: string;
  /** `partitions` into a table that exists (`--include-partitions`): not created. */
  intoExisting?: boolean;
  files: PlannedFile[];
  /** Explicit ROW_FORMAT to set before the import (a `--force` adjustment). */
  rowFormat?: string;
  /** The backup has no `.cfg` for it (imported without schema check, `--force`). */
  withoutCfg: boolean;
}

/** A database the restore needs, with the statement that creates it when missing. */
export interface PlannedDatabase {
  name: string;
  /** The source database's record (its CREATE DATABASE options), when the backup has it. */
  source?: DatabaseRecord;
}

/** The whole plan. */
export interface RestorePlan {
  tables: PlannedTable[];
  /** Tables left alone, with the reason (`--skip-existing`, `--include-partitions`). */
  skipped: { table: string; reason: string }[];
  /** Target databases, each once, in the order first needed. */
  databases: PlannedDatabase[];
  /** Things the user should know that do not stop the restore. */
  warnings: string[];
}

/** What the selection needs from the command line. */
export interface SelectionRequest {
  include?: string;
  exclude?: string;
  renames: Rename[];
}

/**
 * Split `--rename` arguments into database renames (`shop TO shop_copy`: both
 * names bare of a database, OLD a database of the backup) and table renames.
 * OLD naming both a database and a table of the backup is ambiguous (UsageError:
 * write `db.tbl` for the table).
 */
export function splitRenames(
  manifest: Manifest,
  renames: Rename[],
): { databases: Map<string, string>; tables: Rename[] } {
  const dbs = new Set([
    ...manifest.databases.map((d) => d.name),
    ...manifest.tables.map((t) => t.database),
  ]);
  const databases = new Map<string, string>();
  const tables: Rename[] = [];
  for (const r of renames) {
    if (r.from.database !== undefined || r.to.database !== undefined || !dbs.has(r.from.table)) {
      tables.push(r);
      continue;
    }
    if (manifest.tables.some((t) => t.name === r.from.table)) {
      throw new UsageError(
        `--rename: ${quoteIdentifier(r.from.table)} names both a database and a table of the ` +
          "backup; write db.tbl to rename the table",
      );
    }
    if (databases.has(r.from.table)) {
      throw new UsageError(`--rename: database ${quoteIdentifier(r.from.table)} is renamed twice`);
    }
    databases.set(r.from.table, r.to.table);
  }
  return { databases, tables };
}

/** A selected table and its target name, before compatibility checks. */
export interface SelectedRestore {
  source: TableRecord;
  target: TableName;
  renamed: boolean;
}

/** What exists on the target server, as far as the plan's names are concerned. */
export interface TargetState {
  /** Databases that exist (names as the server lists them). */
  databases: string[];
  /** Tables that exist among the plan's targets, with a note (e.g. discarded tablespace). */
  tables: { database: string; name: string; note?: string }[];
  /** Target file paths (relative to the data directory) that already exist. */
  files: string[];
}

function exprs(req: SelectionRequest): string {
  return [
    req.include !== undefined ? `--include-tables=${JSON.stringify(req.include)}` : "",
    req.exclude !== undefined ? `--exclude-tables=${JSON.stringify(req.exclude)}` : "",
  ].filter(Boolean).join(" ") || "(no --include-tables: all tables)";
}

function showName(n: { database?: string; table: string }): string {
  return n.database === undefined ? quoteIdentifier(n.table) : quoteTable(n.database, n.table);
}

/**
 * Select the backup's tables with the include/exclude expressions and apply the
 * renames. UsageError when nothing matches (naming the expressions), when a
 * rename's OLD is not a selected table (or is ambiguous without a database), or
 * when two tables would be restored under the same name.
 */
export function selectRestoreTables(
  manifest: Manifest,
  req: SelectionRequest,
  databaseRenames: ReadonlyMap<string, string> = new Map(),
): SelectedRestore[] {
  if (manifest.tables.length === 0) {
    throw new UsageError(
      "the backup holds no tables (a directory imaged as plain files cannot be copied back)",
    );
  }
  const filter = compileTableFilter({ include: req.include, exclude: req.exclude });
  const selected = manifest.tables.filter((t) => filter(t.database, t.name));
  if (selected.length === 0) {
    throw new UsageError(`no table of the backup matches ${exprs(req)}`);
  }
  const out: SelectedRestore[] = selected.map((t) => ({
    source: t,
    target: { database: databaseRenames.get(t.database) ?? t.database, name: t.name },
    renamed: databaseRenames.has(t.database),
  }));
  for (const r of req.renames) {
    const matches = out.filter((s) =>
      s.source.name === r.from.table &&
      (r.from.database === undefined || s.source.database === r.from.database)
    );
    if (matches.length > 1) {
      throw new UsageError(
        `--rename: ${showName(r.from)} is ambiguous: it names ` +
          `${matches.map((m) => label(m.source)).join(", ")}; write db.tbl`,
      );
    }
    if (matches.length === 0) {
      const inBackup = manifest.tables.some((t) =>
        t.name === r.from.table && (r.from.database === undefined || t.database === r.from.database)
      );
      throw new UsageError(
        `--rename: ${showName(r.from)} ` +
          (inBackup ? `is not selected by ${exprs(req)}` : "is not a table of the backup") +
          "; OLD must name a selected table",
      );
    }
    const m = matches[0];
    if (m.renamed && !databaseRenames.has(m.source.database)) {
      throw new UsageError(`--rename: ${label(m.source)} is renamed twice`);
    }
    m.target = { database: r.to.database ?? m.target.database, name: r.to.table };
    m.renamed = true;
  }
  const seen = new Map<string, SelectedRestore>();
  for (const s of out) {
    const k = JSON.stringify([s.target.database, s.target.name]);
    const other = seen.get(k);
    if (other) {
      throw new UsageError(
        `${label(other.source)} and ${label(s.source)} would both be restored as ${
          label(s.target)
        }`,
      );
    }
    seen.set(k, s);
  }
  return out;
}

/** Name as the server stores it on disk (lowercased when lower_case_table_names is 1). */
function diskName(name: string, facts: ServerFacts): string {
  return facts.lowerCaseTableNames === 1 ? name.toLowerCase() : name;
}

/** Key for comparing names as the target server does. */
export function nameKey(database: string, name: string, facts: ServerFacts): string {
  const fold = facts.lowerCaseTableNames !== 0;
  return JSON.stringify(fold ? [database.toLowerCase(), name.toLowerCase()] : [database, name]);
}

/**
 * The data-directory paths of a table's files under its new name: the part of the
 * entry path after the source's encoded `db/table` (`.ibd`, `#P#p0.ibd`) is kept.
 * Returns a problem string instead when an entry does not follow that pattern.
 */
export function targetFiles(s: SelectedRestore, facts: ServerFacts): PlannedFile[] | string {
  const prefix = `${encodeFilename(s.source.database)}/${encodeFilename(s.source.name)}`;
  const to = `${encodeFilename(diskName(s.target.database, facts))}/` +
    encodeFilename(diskName(s.target.name, facts));
  const files: PlannedFile[] = [];
  for (const entry of s.source.files) {
    const rest = entry.slice(prefix.length);
    const m = /^((?:#[pP]#[^/]+)?)\.(ibd|cfg)$/.exec(rest);
    if (!entry.startsWith(prefix) || !m) {
      return `its file ${entry} does not belong to ${prefix}`;
    }
    files.push({ entry, target: to + rest, kind: m[2] as "ibd" | "cfg" });
  }
  return files;
}

function stemOf(path: string): string {
  return path.replace(/\.(ibd|cfg|frm)$/, "");
}

function majorMinor(version: string): string {
  return /^(\d+\.\d+)/.exec(version)?.[1] ?? version;
}

/** Inputs of {@link planRestore}. */
export interface PlanInputs {
  manifest: Manifest;
  selected: SelectedRestore[];
  facts: ServerFacts;
  state: TargetState;
  force: boolean;
  /** Leave existing target tables alone instead of stopping. */
  skipExisting?: boolean;
  /** `--include-partitions`: which partitions of partitioned tables to restore. */
  partitions?: (label: string) => boolean;
  /** The partition label of an entry path (see partitions.ts). */
  partitionOf?: (entry: string) => string | undefined;
  /** CREATE TABLE statements with retargeted foreign keys, by target `[db, name]` key. */
  statements?: ReadonlyMap<string, string>;
  /** Problems found elsewhere (objects, foreign keys), reported with the tables'. */
  problems?: string[];
}

/** What planning found: problems stop the restore, warnings do not. */
interface Findings {
  problems: string[];
  warnings: string[];
}

/** The backup's server against the target server: flavour, version, page size. */
function checkServers(src: ServerFacts | undefined, facts: ServerFacts, f: Findings): void {
  if (!src) {
    f.problems.push("the backup records no server facts: it was not taken from a server");
    return;
  }
  if (src.flavor !== facts.flavor) {
    f.problems.push(
      `the backup comes from ${src.flavor} ${src.version} and the server is ${facts.flavor} ` +
        `${facts.version}: their tablespace formats are not interchangeable`,
    );
  } else if (majorMinor(src.version) !== majorMinor(facts.version)) {
    f.warnings.push(
      `the backup comes from ${src.version} and the server is ${facts.version}: ` +
        "importing across versions depends on the server accepting the format",
    );
  }
  if (Number(src.pageSize) !== Number(facts.pageSize)) {
    f.problems.push(
      `the backup has innodb_page_size ${src.pageSize} and the server ${facts.pageSize}: ` +
        "InnoDB imports only tablespaces of its own page size",
    );
  }
}

/** The files of a table that can be imported here, or undefined (with the problem noted). */
function importableFiles(
  s: SelectedRestore,
  what: string,
  facts: ServerFacts,
  f: Findings,
): PlannedFile[] | undefined {
  const t = s.source;
  if (t.method === "definition") return [];
  if (t.method === "logical") {
    if (t.files.length !== 1 || !t.files[0].endsWith(".sql")) {
      f.problems.push(
        `${what}: a logical table needs one .sql entry, the backup lists ${
          t.files.join(", ") || "none"
        }`,
      );
      return undefined;
    }
    return [{ entry: t.files[0], target: "", kind: "sql" }];
  }
  if (t.engine.toLowerCase() !== "innodb") {
    f.problems.push(`${what}: engine ${t.engine}, only InnoDB tables can be imported`);
    return undefined;
  }
  const files = targetFiles(s, facts);
  if (typeof files === "string") {
    f.problems.push(`${what}: ${files}`);
    return undefined;
  }
  const ibds = files.filter((x) => x.kind === "ibd");
  if (ibds.length === 0) {
    f.problems.push(`${what}: the backup has no .ibd file for it`);
    return undefined;
  }
  return files;
}

/** True when a tablespace has no `.cfg` (a problem, or with `force` a warning). */
function missingCfg(files: PlannedFile[], what: string, force: boolean, f: Findings): boolean {
  const withoutCfg = files.some((x) =>
    x.kind === "ibd" && !files.some((g) => g.target === x.target.replace(/\.ibd$/, ".cfg"))
  );
  if (!withoutCfg) return false;
  if (force) {
    f.warnings.push(`${what}: no .cfg in the backup; importing without schema verification`);
  } else {
    f.problems.push(
      `${what}: the backup has no .cfg file for it; --force imports it without the ` +
        "schema verification the .cfg allows",
    );
  }
  return true;
}

/**
 * The ROW_FORMAT to set after CREATE TABLE when the recorded one is implicit and
 * the target's default differs (with `force`; a problem without).
 */
function rowFormatFor(
  t: TableRecord,
  what: string,
  facts: ServerFacts,
  force: boolean,
  f: Findings,
): string | undefined {
  const targetDefault = (facts.innodbDefaultRowFormat ?? "").toLowerCase();
  const recorded = (t.rowFormat ?? "").toLowerCase();
  const explicit = /\bROW_FORMAT\s*=/i.test(t.createStatement);
  if (explicit || !recorded || !targetDefault || recorded === targetDefault) return undefined;
  if (!force) {
    f.problems.push(
      `${what}: row format ${recorded} but the server would create it as ${targetDefault} ` +
        `(innodb_default_row_format); --force creates it with ROW_FORMAT=${recorded.toUpperCase()}`,
    );
    return undefined;
  }
  const rowFormat = recorded.toUpperCase();
  f.warnings.push(
    `${what}: created with ROW_FORMAT=${rowFormat} (the server's default is ${targetDefault})`,
  );
  return rowFormat;
}

/** The target table or one of its files exists: never overwritten. */
function checkTargetFree(
  s: SelectedRestore,
  files: PlannedFile[],
  state: TargetState,
  facts: ServerFacts,
  f: Findings,
  allow: { existing: boolean },
): "free" | "exists" {
  const key = nameKey(s.target.database, s.target.name, facts);
  const existing = state.tables.find((t) => nameKey(t.database, t.name, facts) === key);
  if (existing) {
    if (!allow.existing) {
      f.problems.push(
        `${label(s.target)} already exists on the server${
          existing.note ? ` (${existing.note})` : ""
        }; copy-back never overwrites: drop it, restore under another name with --rename, ` +
          "or --skip-existing to restore the rest",
      );
    }
    return "exists";
  }
  const stems = new Set(files.map((x) => stemOf(x.target)));
  for (const rel of new Set(state.files)) {
    if (stems.has(stemOf(rel))) {
      f.problems.push(
        `${label(s.target)}: the file ${rel} already exists in the data directory ` +
          "(left by an interrupted restore or a dropped table?); remove it first",
      );
    }
  }
  return "free";
}

/**
 * Check the selection against the target server and build the plan. Every
 * problem is collected; if there is any, throws one ServerError (exit 3) listing
 * them all: server flavour or page size that differ from the backup's, tables
 * that are not InnoDB, partitioned tables on MariaDB (its IMPORT TABLESPACE
 * refuses them), a missing `.ibd`, a missing `.cfg` or a row format the target
 * would choose differently (both allowed by `--force`), target tables or files
 * that exist (never overwritten, `--force` or not).
 */
export function planRestore(inputs: PlanInputs): RestorePlan {
  const { manifest, selected, facts, state, force } = inputs;
  const f: Findings = { problems: [...inputs.problems ?? []], warnings: [] };
  checkServers(manifest.server, facts, f);
  const fold = (name: string) => facts.lowerCaseTableNames !== 0 ? name.toLowerCase() : name;
  const dbKnown = new Set(state.databases.map(fold));
  const tables: PlannedTable[] = [];
  const databases: PlannedDatabase[] = [];
  const skipped: RestorePlan["skipped"] = [];
  for (const s of selected) {
    const what = s.renamed ? `${label(s.source)} (as ${label(s.target)})` : label(s.source);
    let files = importableFiles(s, what, facts, f);
    if (!files) continue;
    const partitioned = files.some((x) => x.kind === "ibd" && x.entry.includes("#"));
    const method: RestoreMethod = s.source.method === "logical" || s.source.method === "definition"
      ? s.source.method
      : partitioned
      ? "partitions"
      : "tts";
    if (method === "partitions" && inputs.partitions && inputs.partitionOf) {
      const all = files.length;
      files = files.filter((x) => inputs.partitions!(inputs.partitionOf!(x.entry) ?? ""));
      if (files.length === 0) {
        skipped.push({
          table: what,
          reason: "none of its partitions matches --include-partitions",
        });
        continue;
      }
      if (files.length < all) {
        f.warnings.push(
          `${what}: only partitions ${
            [...new Set(files.map((x) => inputs.partitionOf!(x.entry)))].join(", ")
          } are restored`,
        );
      }
    }
    const withoutCfg = method === "tts" || method === "partitions"
      ? missingCfg(files, what, force, f)
      : false;
    const rowFormat = method === "tts" || method === "partitions"
      ? rowFormatFor(s.source, what, facts, force, f)
      : undefined;
    const intoExisting = method === "partitions" && inputs.partitions !== undefined;
    const where = checkTargetFree(s, files, state, facts, f, {
      existing: inputs.skipExisting === true || intoExisting,
    });
    if (where === "exists" && !intoExisting) {
      if (inputs.skipExisting) {
        skipped.push({ table: what, reason: "already exists (--skip-existing)" });
      }
      continue;
    }
    if (!databases.some((d) => d.name === s.target.database)) {
      databases.push({
        name: s.target.database,
        source: dbKnown.has(fold(s.target.database))
          ? undefined
          : manifest.databases.find((d) => d.name === s.source.database),
      });
    }
    tables.push({
      source: s.source,
      target: s.target,
      renamed: s.renamed,
      method,
      createStatement: inputs.statements?.get(nameKey(s.target.database, s.target.name, facts)) ??
        s.source.createStatement,
      intoExisting: where === "exists" && intoExisting,
      files,
      rowFormat,
      withoutCfg,
    });
  }
  if (f.problems.length > 0) {
    throw new ServerError(
      `nothing was restored: ${f.problems.length} problem(s):\n  ` + f.problems.join("\n  "),
    );
  }
  return { tables, skipped, databases, warnings: f.warnings };
}

/**
 * Read what exists on the target for the selected names: the databases, the
 * target tables (noting a discarded tablespace, as an interrupted restore leaves
 * it) and any target file already present under `datadir`. Names are compared
 * in JavaScript, not with the server's accent-insensitive collations.
 */
export async function readTargetState(
  conn: Connection,
  facts: ServerFacts,
  selected: SelectedRestore[],
): Promise<TargetState> {
  const dbRows = await queryRows<{ name: string }>(
    conn,
    "SELECT SCHEMA_NAME AS name FROM information_schema.SCHEMATA",
  );
  const databases = dbRows.map((r) => String(r.name));
  const wanted = [...new Set(selected.map((s) => s.target.database))];
  const tableRows = wanted.length === 0 ? [] : await queryRows<{ db: string; name: string }>(
    conn,
    "SELECT TABLE_SCHEMA AS db, TABLE_NAME AS name FROM information_schema.TABLES " +
      `WHERE TABLE_SCHEMA IN (${wanted.map(() => "?").join(", ")})`,
    wanted,
  );
  const keys = new Set(selected.map((s) => nameKey(s.target.database, s.target.name, facts)));
  const tables: TargetState["tables"] = [];
  for (const r of tableRows) {
    const t = { database: String(r.db), name: String(r.name) };
    if (!keys.has(nameKey(t.database, t.name, facts))) continue;
    tables.push({ ...t, note: await tableNote(conn, t) });
  }
  const files: string[] = [];
  const datadir = facts.datadir;
  for (const s of selected) {
    const planned = targetFiles(s, facts);
    if (typeof planned === "string" || !datadir) continue;
    for (const f of planned) {
      const stem = stemOf(f.target);
      for (const ext of [".ibd", ".cfg", ".frm"]) {
        const rel = stem + ext;
        if (ext === ".frm" && stem.includes("#")) continue;
        if (await exists(`${datadir}/${rel}`)) files.push(rel);
      }
    }
  }
  return { databases, tables, files: [...new Set(files)] };
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

/** A note on an existing table: its tablespace discarded, or unreadable. */
async function tableNote(conn: Connection, t: TableName): Promise<string | undefined> {
  try {
    await conn.query(`SELECT 1 FROM ${label(t)} LIMIT 1`);
    return undefined;
  } catch (err) {
    const e = err as { errno?: number; message?: string };
    if (e.errno === 1814) {
      return "its tablespace is discarded, as an interrupted restore leaves it";
    }
    return `it cannot be read: ${e.message ?? String(err)}`;
  }
}
