/**
 * Transportable-tablespace import of one table into a running server, atomic:
 * CREATE TABLE from the recorded statement under the new name, ALTER TABLE ...
 * DISCARD TABLESPACE, the staged `.ibd`/`.cfg` placed under the table's file
 * names with the owner and mode of the file the server made, ALTER TABLE ...
 * IMPORT TABLESPACE, FULLTEXT indexes rebuilt (`fulltext.ts`), ANALYZE TABLE. If any step fails, the table it created is
 * dropped and the files it placed are removed, so the server is as before.
 */
import { chmod, chown, link, lstat, rename, stat, unlink } from "node:fs/promises";
import type { Connection } from "mysql2/promise";
import type { DatabaseRecord } from "../core/manifest.ts";
import { quoteIdentifier, quoteTable, scanQualifiedName } from "../names/quote.ts";
import { ConnectionLost, IoError, ServerError } from "../errors.ts";
import { driverMessage, isConnectionLoss, queryRows } from "./facts.ts";
import { fulltextIndexes, isFulltextImportWarning, rebuildFulltextIndexes } from "./fulltext.ts";
import { checkCreateDatabase, checkCreateTable } from "./sql_guard.ts";

const CREATE_TABLE_HEAD = /^\s*CREATE\s+TABLE\s+/i;
const CREATE_DATABASE_HEAD =
  /^\s*CREATE\s+(?:DATABASE|SCHEMA)\s+(?:\/\*!\d+\s+IF\s+NOT\s+EXISTS\s*\*\/\s*)?/i;

/**
 * Put `database`.`table` in place of the table name of a `SHOW CREATE TABLE`
 * statement. Only the name after `CREATE TABLE` is touched: it is read as SQL
 * reads it (backtick or double quotes, doubled quotes inside, or bare; optionally
 * qualified) and replaced by {@link quoteTable}'s form; the body stays byte for
 * byte. A statement of another shape (TEMPORARY, OR REPLACE, IF NOT EXISTS, LIKE,
 * no column list) is refused with a ServerError.
 */
/** How help text names the discard step of an import. */
export const DISCARD_STEP = "ALTER TABLE ... DISCARD TABLESPACE";

export function renameCreateTable(statement: string, database: string, table: string): string {
  const head = CREATE_TABLE_HEAD.exec(statement);
  const bad = () =>
    new ServerError(
      `the recorded CREATE TABLE statement has an unexpected form: ${
        JSON.stringify(statement.slice(0, 80))
      }`,
    );
  if (!head) throw bad();
  let end: number;
  try {
    end = scanQualifiedName(statement, head[0].length, "CREATE TABLE").end;
  } catch {
    throw bad();
  }
  const rest = statement.slice(end);
  if (!/^\s*\(/.test(rest) || /^(IF|LIKE)$/i.test(statement.slice(head[0].length, end))) {
    throw bad();
  }
  return `CREATE TABLE ${quoteTable(database, table)}${rest}`;
}

/**
 * The CREATE DATABASE statement for `database` with the options of the source
 * database's `SHOW CREATE DATABASE` (character set, collation, comment); only the
 * name is replaced. Without a record: a plain `CREATE DATABASE`.
 */
export function renameCreateDatabase(source: DatabaseRecord | undefined, database: string): string {
  const plain = `CREATE DATABASE ${quoteIdentifier(database)}`;
  if (!source?.createStatement) return plain;
  const s = source.createStatement;
  const head = CREATE_DATABASE_HEAD.exec(s);
  if (!head) return plain;
  let end: number;
  try {
    end = scanQualifiedName(s, head[0].length, "CREATE DATABASE").end;
  } catch {
    return plain;
  }
  return plain + s.slice(end);
}

/**
 * Session settings for importing: foreign key checks off (DISCARD refuses them
 * otherwise, and referenced tables may be absent), a neutral sql_mode so recorded
 * defaults are accepted and no engine is substituted, utf8mb4 names.
 */
export async function prepareImportSession(conn: Connection): Promise<void> {
  await queryRows(
    conn,
    "SET SESSION foreign_key_checks = 0, " +
      "SESSION sql_mode = 'NO_AUTO_VALUE_ON_ZERO,NO_ENGINE_SUBSTITUTION', NAMES utf8mb4",
  );
}

/**
 * Create database `name` unless it exists, with the options of `source`; true when
 * this call created it. Names are compared exactly (in letter case too unless
 * `foldCase`, for lower_case_table_names 1 and 2), not by the server's
 * accent-insensitive collation.
 */
export async function ensureDatabase(
  conn: Connection,
  name: string,
  source: DatabaseRecord | undefined,
  foldCase = false,
): Promise<boolean> {
  const rows = await queryRows<{ n: string }>(
    conn,
    "SELECT SCHEMA_NAME AS n FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?",
    [name],
  );
  const same = (a: string) => foldCase ? a.toLowerCase() === name.toLowerCase() : a === name;
  if (rows.some((r) => same(String(r.n)))) return false;
  const create = renameCreateDatabase(source, name);
  checkCreateDatabase(create, name);
  await queryRows(conn, create);
  return true;
}

/** One file to import: where it is staged and where it goes. */
export interface ImportFile {
  /** Absolute path of the staged file (on the data directory's file system). */
  staged: string;
  /** Path relative to the data directory (`db/t.ibd`). */
  target: string;
  kind: "ibd" | "cfg";
}

/** What {@link importTable} needs. */
export interface ImportRequest {
  conn: Connection;
  datadir: string;
  database: string;
  table: string;
  /** The recorded `SHOW CREATE TABLE` (any table name; it is replaced). */
  createStatement: string;
  files: ImportFile[];
  /** Set this ROW_FORMAT right after CREATE TABLE (a --force adjustment). */
  rowFormat?: string;
  /** `--force`: a recorded DATA/INDEX DIRECTORY inside the data directory is allowed. */
  force?: boolean;
  signal?: AbortSignal;
  /** Told each step as it starts (for progress and logs). */
  onStep?: (step: string) => void;
}

/** What a finished import reports. */
export interface ImportResult {
  /** Warnings from IMPORT TABLESPACE and ANALYZE TABLE. */
  warnings: string[];
  /** FULLTEXT indexes rebuilt after the import (InnoDB cannot import them). */
  rebuiltFulltext: string[];
}

/** Owner and permissions to give placed files. */
interface FileOwner {
  uid: number;
  gid: number;
  mode: number;
}

async function ownerOf(path: string): Promise<FileOwner | undefined> {
  try {
    const st = await stat(path);
    return { uid: st.uid, gid: st.gid, mode: st.mode & 0o666 };
  } catch {
    return undefined;
  }
}

/**
 * Move `staged` to `dest` without ever replacing a file: a hard link (which fails
 * if `dest` exists) then removal of the staged name; where links are not
 * possible, a rename after checking `dest` is absent. Owner and mode are set first.
 */
export async function placeFile(staged: string, dest: string, owner: FileOwner): Promise<void> {
  try {
    await chmod(staged, owner.mode);
    const st = await stat(staged);
    if (st.uid !== owner.uid || st.gid !== owner.gid) {
      try {
        await chown(staged, owner.uid, owner.gid);
      } catch (err) {
        const code = (err as { code?: string }).code;
        if (code !== "EPERM") throw err;
        // Not allowed to give the file away: the server reads it if its group or
        // mode lets it; IMPORT TABLESPACE says so otherwise.
      }
    }
  } catch (err) {
    throw new IoError(`cannot set owner and mode of ${staged}: ${(err as Error).message}`);
  }
  try {
    await link(staged, dest);
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === "EEXIST") throw new IoError(`${dest} already exists: not overwriting it`);
    if (code !== "EPERM" && code !== "ENOTSUP" && code !== "EXDEV" && code !== "EOPNOTSUPP") {
      throw new IoError(`cannot place ${dest}: ${(err as Error).message}`);
    }
    if (await lstat(dest).then(() => true, () => false)) {
      throw new IoError(`${dest} already exists: not overwriting it`);
    }
    try {
      await rename(staged, dest);
      return;
    } catch (e) {
      throw new IoError(`cannot place ${dest}: ${(e as Error).message}`);
    }
  }
  await unlink(staged).catch(() => {});
}

async function warningsOf(conn: Connection): Promise<string[]> {
  try {
    const rows = await queryRows<{ Level: string; Message: string }>(conn, "SHOW WARNINGS");
    return rows.map((r) => `${r.Level}: ${r.Message}`);
  } catch {
    return [];
  }
}

/**
 * Import one table (see the module documentation). The target must not exist
 * (the plan checked; CREATE TABLE fails otherwise and nothing is touched).
 * Throws ServerError or IoError naming the table and the step; the message
 * says what cleanup could not undo, if anything.
 */
export async function importTable(req: ImportRequest): Promise<ImportResult> {
  const { conn } = req;
  const name = quoteTable(req.database, req.table);
  const placed: string[] = [];
  let created = false;
  let step = "";
  const begin = (s: string) => {
    req.signal?.throwIfAborted();
    step = s;
    req.onStep?.(s);
  };
  try {
    begin("create");
    const create = renameCreateTable(req.createStatement, req.database, req.table);
    checkCreateTable(create, req.database, req.table, { force: !!req.force, datadir: req.datadir });
    await queryRows(conn, create);
    created = true;
    if (req.rowFormat) {
      begin("row format");
      await queryRows(conn, `ALTER TABLE ${name} ROW_FORMAT=${rowFormatWord(req.rowFormat)}`);
    }
    const ibds = req.files.filter((f) => f.kind === "ibd");
    const made = ibds.length ? `${req.datadir}/${ibds[0].target}` : "";
    const owner = await ownerOf(made);
    if (!owner) {
      throw new IoError(
        `the server did not create ${made} for ${name}: the table's files are not where ` +
          "ibvault expects them (is --datadir right?)",
      );
    }
    begin("discard");
    await queryRows(conn, `ALTER TABLE ${name} DISCARD TABLESPACE`);
    begin("place");
    for (const f of req.files) {
      const dest = `${req.datadir}/${f.target}`;
      await placeFile(f.staged, dest, owner);
      placed.push(dest);
    }
    begin("import");
    await queryRows(conn, `ALTER TABLE ${name} IMPORT TABLESPACE`);
    let warnings = await warningsOf(conn);
    // The server leaves the .cfg files; they are ours to remove.
    for (const f of req.files) {
      if (f.kind === "cfg") await unlink(`${req.datadir}/${f.target}`).catch(() => {});
    }
    const [live] = await queryRows<{ "Create Table": string }>(conn, `SHOW CREATE TABLE ${name}`);
    const fulltext = fulltextIndexes(live?.["Create Table"] ?? "");
    if (fulltext.length) {
      begin("fulltext");
      await rebuildFulltextIndexes(conn, name, fulltext);
      warnings = warnings.filter((w) => !fulltext.some((i) => isFulltextImportWarning(w, i.name)));
    }
    step = "analyze";
    req.onStep?.("analyze");
    try {
      const rows = await queryRows<{ Msg_type: string; Msg_text: string }>(
        conn,
        `ANALYZE TABLE ${name}`,
      );
      for (const r of rows) {
        if (/error|warning/i.test(String(r.Msg_type))) {
          warnings.push(`ANALYZE TABLE: ${r.Msg_type}: ${r.Msg_text}`);
        }
      }
    } catch (err) {
      warnings.push(`ANALYZE TABLE failed: ${driverMessage(err)}`);
    }
    return { warnings, rebuiltFulltext: fulltext.map((i) => i.name) };
  } catch (err) {
    const left = await undo(conn, name, created, placed);
    const why = driverMessage(err);
    const message = `${name}: ${step} failed: ${why}` +
      (left.length ? `; cleanup could not undo: ${left.join("; ")}` : "; nothing was left behind");
    if (err instanceof IoError) throw new IoError(message, { cause: err });
    if (isConnectionLoss(err)) throw new ConnectionLost(message, { cause: err });
    throw new ServerError(message, { cause: err });
  }
}

function rowFormatWord(format: string): string {
  const w = format.toUpperCase();
  if (!/^(DYNAMIC|COMPACT|REDUNDANT|COMPRESSED)$/.test(w)) {
    throw new ServerError(`unknown row format ${JSON.stringify(format)}`);
  }
  return w;
}

/** Drop the table if this import created it and remove placed files; what remains. */
async function undo(
  conn: Connection,
  name: string,
  created: boolean,
  placed: string[],
): Promise<string[]> {
  const left: string[] = [];
  if (created) {
    try {
      await queryRows(conn, `DROP TABLE IF EXISTS ${name}`);
    } catch (err) {
      left.push(`table ${name} (${driverMessage(err)})`);
    }
  }
  for (const p of placed) {
    try {
      await unlink(p);
    } catch (err) {
      if ((err as { code?: string }).code !== "ENOENT") left.push(`file ${p}`);
    }
  }
  return left;
}
