/**
 * Which tables a backup takes: the tables information_schema lists (names come from
 * the server, never from file names), filtered by the four-form table filter, each
 * classified as backupable (InnoDB, every tablespace its own `.ibd` present in the
 * data directory) or skipped with the reason. Partitioned tables are taken whole or
 * skipped whole.
 */
import { access, constants, stat } from "node:fs/promises";
import process from "node:process";
import type { Connection } from "mysql2/promise";
import type { ServerFacts } from "../core/manifest.ts";
import type { TableFilter } from "../names/filter.ts";
import { IoError } from "../errors.ts";
import {
  type InnodbTablespace,
  listInnodbTablespaces,
  listPartitionRows,
  listTableRows,
  type PartitionRow,
  SYSTEM_DATABASES,
  type TableRow,
  tablespaceKey,
  tablespaceName,
} from "./facts.ts";

/** A table that will be backed up. */
export interface SelectedTable {
  database: string;
  name: string;
  engine: string;
  rowFormat?: string;
  createOptions: string;
  /** Partition labels (`p0` or `p0/s0`) in order; empty for an unpartitioned table. */
  partitions: string[];
  /**
   * Data file stems relative to the data directory, filename-encoded, without
   * extension: `db/@0gbc`, or one per (sub)partition `db/p#P#p0`. Each has a `.ibd`,
   * and gets a `.cfg` while the table is flushed for export.
   */
  stems: string[];
}

/**
 * A table that is only locked beside the selected ones (a logical table under
 * FLUSH ... FOR EXPORT): no files, no partitions.
 */
export function lockOnlyTable(t: { database: string; name: string }): SelectedTable {
  return {
    database: t.database,
    name: t.name,
    engine: "",
    createOptions: "",
    partitions: [],
    stems: [],
  };
}

/** A table the selection matched that cannot be backed up, and why. */
export interface SkippedTable {
  database: string;
  name: string;
  reason: string;
}

/** The outcome of selecting tables. */
export interface TableSelection {
  tables: SelectedTable[];
  skipped: SkippedTable[];
}

/** What {@link classifyTables} needs to know about the server, as plain data. */
export interface Catalog {
  tables: TableRow[];
  partitions: PartitionRow[];
  tablespaces: Map<string, InnodbTablespace>;
}

/** Read the catalog (tables, partitions, InnoDB tablespaces) from the server. */
export async function readCatalog(conn: Connection, facts: ServerFacts): Promise<Catalog> {
  return {
    tables: await listTableRows(conn),
    partitions: await listPartitionRows(conn),
    tablespaces: await listInnodbTablespaces(conn, facts.flavor),
  };
}

/** Why a tablespace cannot be copied on its own, or undefined when it can. */
function tablespaceProblem(
  ts: InnodbTablespace | undefined,
  stem: string,
  facts: ServerFacts,
): string | undefined {
  if (!ts) return `InnoDB lists no tablespace ${stem}`;
  if (ts.kind === "system") {
    return "stored in the system tablespace (created with innodb_file_per_table=OFF)";
  }
  if (ts.kind === "general") return "stored in a general (shared) tablespace";
  if (ts.file && !isDefaultLocation(ts.file, stem, facts.datadir)) {
    return `its data file is outside the data directory (DATA DIRECTORY): ${ts.file}`;
  }
  return undefined;
}

function isDefaultLocation(file: string, stem: string, datadir: string): boolean {
  const want = `${stem}.ibd`;
  if (file.startsWith("./")) return tablespaceKey(file.slice(2)) === tablespaceKey(want);
  if (!file.startsWith("/")) return tablespaceKey(file) === tablespaceKey(want);
  return datadir !== "" && tablespaceKey(file) === tablespaceKey(`${datadir}/${want}`);
}

/**
 * Classify the tables the filter selects, from catalog data alone (no file
 * checks): system databases are ignored unless `includeGiven` (then listed as
 * skipped), views, sequences and non-InnoDB tables are skipped, and a table is
 * skipped whole when any of its partitions lacks a tablespace of its own.
 */
export function classifyTables(
  catalog: Catalog,
  facts: ServerFacts,
  filter: TableFilter,
  includeGiven: boolean,
): TableSelection {
  const parts = new Map<string, PartitionRow[]>();
  for (const p of catalog.partitions) {
    const key = `${p.database}\0${p.table}`;
    const list = parts.get(key) ?? [];
    list.push(p);
    parts.set(key, list);
  }
  const tables: SelectedTable[] = [];
  const skipped: SkippedTable[] = [];
  for (const row of catalog.tables) {
    if (!filter(row.database, row.name)) continue;
    const skip = (reason: string) =>
      skipped.push({ database: row.database, name: row.name, reason });
    if (SYSTEM_DATABASES.includes(row.database.toLowerCase())) {
      if (includeGiven) skip("in a system database");
      continue;
    }
    const type = row.type.toUpperCase();
    if (type === "VIEW" || type === "SYSTEM VIEW") {
      skip("a view: no data of its own");
      continue;
    }
    if (type === "SEQUENCE") {
      skip("a sequence: not exported as a tablespace");
      continue;
    }
    if (type === "TEMPORARY") {
      skip("a temporary table");
      continue;
    }
    if ((row.engine ?? "").toLowerCase() !== "innodb") {
      skip(`engine ${row.engine ?? "unknown"}: only InnoDB tables can be exported`);
      continue;
    }
    const partRows = parts.get(`${row.database}\0${row.name}`) ?? [];
    const flavor = facts.flavor;
    const targets = partRows.length === 0
      ? [{ label: "", stem: tablespaceName(flavor, row.database, row.name) }]
      : partRows.map((p) => ({
        label: p.subpartition === undefined ? p.partition : `${p.partition}/${p.subpartition}`,
        stem: tablespaceName(flavor, row.database, row.name, p.partition, p.subpartition),
      }));
    let problem: string | undefined;
    for (const t of targets) {
      const why = tablespaceProblem(catalog.tablespaces.get(tablespaceKey(t.stem)), t.stem, facts);
      if (why) {
        problem = t.label
          ? `partition ${t.label} ${why}; a partitioned table is taken whole or not at all`
          : why;
        break;
      }
    }
    if (problem) {
      skip(problem);
      continue;
    }
    const table: SelectedTable = {
      database: row.database,
      name: row.name,
      engine: row.engine ?? "InnoDB",
      createOptions: row.createOptions ?? "",
      partitions: targets.map((t) => t.label).filter((l) => l !== ""),
      stems: targets.map((t) => t.stem),
    };
    if (row.rowFormat) table.rowFormat = row.rowFormat;
    tables.push(table);
  }
  return { tables, skipped };
}

/**
 * Check that every selected table's `.ibd` files exist in `datadir`: a missing
 * file moves the table to the skipped list; a data directory ibvault may not read
 * is an IoError naming the path and the permission that is missing.
 */
export async function checkTableFiles(
  selection: TableSelection,
  datadir: string,
): Promise<TableSelection> {
  const tables: SelectedTable[] = [];
  const skipped = [...selection.skipped];
  for (const t of selection.tables) {
    let missing: string | undefined;
    for (const stem of t.stems) {
      const path = `${datadir}/${stem}.ibd`;
      try {
        const st = await stat(path);
        if (!st.isFile()) missing = `${path} is not a regular file`;
      } catch (err) {
        const code = (err as { code?: string }).code;
        if (code === "ENOENT") missing = `its data file ${path} does not exist`;
        else if (code === "EACCES") throw await permissionError(path, datadir);
        else throw new IoError(`cannot stat ${path}: ${(err as Error).message}`, { cause: err });
      }
      if (missing) break;
    }
    if (missing) skipped.push({ database: t.database, name: t.name, reason: missing });
    else tables.push(t);
  }
  return { tables, skipped };
}

/**
 * The IoError for a data directory path ibvault lacks permission on: it names the
 * first directory on the way that cannot be searched, or the file that cannot be
 * read, and the user ibvault runs as.
 */
export async function permissionError(path: string, datadir: string): Promise<IoError> {
  const who = process.getuid ? ` for uid ${process.getuid()}` : "";
  const hint = "run ibvault as the server's user, or grant it read access to the data directory";
  const parts = path.slice(datadir.length + 1).split("/");
  let dir = datadir;
  for (let i = -1; i < parts.length - 1; i++) {
    if (i >= 0) dir += `/${parts[i]}`;
    try {
      await access(dir, constants.R_OK | constants.X_OK);
    } catch {
      return new IoError(
        `permission denied: directory ${dir} of the data directory is not readable and ` +
          `searchable (r-x)${who}; ${hint}`,
      );
    }
  }
  return new IoError(`permission denied: ${path} is not readable (r)${who}; ${hint}`);
}

/**
 * Select the tables to back up: read the catalog, apply the filter, classify, and
 * check each data file exists under `facts.datadir`.
 */
export async function selectTables(
  conn: Connection,
  facts: ServerFacts,
  filter: TableFilter,
  includeGiven: boolean,
): Promise<TableSelection> {
  const datadir = facts.datadir;
  try {
    if (!(await stat(datadir)).isDirectory()) throw new Error("not a directory");
  } catch (err) {
    if ((err as { code?: string }).code === "EACCES") throw await permissionError(datadir, datadir);
    throw new IoError(
      `the server's data directory ${datadir} is not a directory here (${
        (err as Error).message
      }): ` +
        `ibvault reads tablespace files and must run on the database host (or give --datadir)`,
    );
  }
  const catalog = await readCatalog(conn, facts);
  const classified = classifyTables(catalog, facts, filter, includeGiven);
  return await checkTableFiles(classified, datadir);
}
