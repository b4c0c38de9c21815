/**
 * SQL from a manifest is untrusted input: a plain image is not authenticated, and
 * a backup directory's manifest is a plain file. Before copy-back executes a
 * recorded CREATE statement, it is checked here to be exactly what a restore
 * needs: one `CREATE TABLE` of the intended (quoted) target with a column list,
 * InnoDB, no SELECT, no other statement, no `DATA DIRECTORY` / `INDEX DIRECTORY`
 * (unless `--force`, and then only inside the server's data directory); one
 * `CREATE DATABASE` of the target with character set, collation and comment only.
 *
 * The check reads the statement as the server does: strings (`'...'`, `"..."`,
 * with doubled quotes and backslash escapes), quoted identifiers (`` `...` ``),
 * comments (`#`, `-- `, `/* *\/`) and executable comments (`/*! ... *\/`,
 * `/*M! ... *\/`), whose contents the server runs and so are checked as code.
 */
import { isAbsolute, relative, resolve } from "node:path";
import { CorruptionError } from "../errors.ts";
import { printable } from "../names/printable.ts";
import { quoteIdentifier, quoteTable } from "../names/quote.ts";

/** One token of SQL text. */
export interface SqlToken {
  kind: "word" | "quoted" | "string" | "symbol";
  /** Words upper-cased; quoted identifiers and strings unquoted; symbols as written. */
  value: string;
  /** Where it starts in the text. */
  at: number;
}

/** Why a text cannot be tokenized (unterminated string, comment or identifier). */
class SqlSyntax extends Error {}

/**
 * Split SQL into tokens, dropping whitespace and plain comments and reading the
 * contents of executable comments as SQL. Throws on an unterminated string,
 * quoted identifier or comment.
 */
export function tokenizeSql(sql: string): SqlToken[] {
  const out: SqlToken[] = [];
  let i = 0;
  const n = sql.length;
  while (i < n) {
    const c = sql[i];
    if (/\s/.test(c)) {
      i++;
    } else if (
      c === "#" || (c === "-" && sql[i + 1] === "-" && (i + 2 >= n || /\s/.test(sql[i + 2])))
    ) {
      while (i < n && sql[i] !== "\n") i++;
    } else if (c === "/" && sql[i + 1] === "*") {
      const exec = /^\/\*(M?!\d*)/.exec(sql.slice(i, i + 12));
      if (exec) {
        // Executable comment: its body is SQL the server runs; only the markers go.
        i += exec[0].length;
        continue;
      }
      const end = sql.indexOf("*/", i + 2);
      if (end < 0) throw new SqlSyntax("an unterminated comment");
      i = end + 2;
    } else if (c === "*" && sql[i + 1] === "/") {
      i += 2; // the end of an executable comment
    } else if (c === "'" || c === '"' || c === "`") {
      const start = i;
      let value = "";
      i++;
      for (;;) {
        if (i >= n) {
          throw new SqlSyntax(c === "`" ? "an unterminated quoted name" : "an unterminated string");
        }
        const d = sql[i];
        if (d === c) {
          if (sql[i + 1] === c) {
            value += c;
            i += 2;
            continue;
          }
          i++;
          break;
        }
        if (d === "\\" && c !== "`" && i + 1 < n) {
          value += sql[i + 1];
          i += 2;
          continue;
        }
        value += d;
        i++;
      }
      out.push({ kind: c === "`" ? "quoted" : "string", value, at: start });
    } else if (/[\p{L}\p{N}_$@]/u.test(c)) {
      const start = i;
      while (i < n && /[\p{L}\p{N}_$@]/u.test(sql[i])) i++;
      out.push({ kind: "word", value: sql.slice(start, i).toUpperCase(), at: start });
    } else {
      out.push({ kind: "symbol", value: c, at: i });
      i++;
    }
  }
  return out;
}

/**
 * Words that have no place in a restore's CREATE TABLE: they read other data
 * (SELECT, TABLE, UNION, LOAD_FILE) or stall the server (SLEEP, BENCHMARK).
 * `SHOW CREATE TABLE` quotes every name, so a bare word is always a keyword.
 */
const FORBIDDEN_WORDS = new Set([
  "SELECT",
  "TABLE",
  "UNION",
  "INTO",
  "LOAD_FILE",
  "SLEEP",
  "BENCHMARK",
]);

/** How a recorded statement may be checked: whether --force allows DATA/INDEX DIRECTORY, and where. */
export interface CreateCheckOptions {
  /** `--force`: DATA/INDEX DIRECTORY are allowed inside `datadir`. */
  force: boolean;
  /** The server's data directory (absolute). */
  datadir: string;
  /**
   * Engines allowed besides InnoDB (upper case): a table the backup carries
   * logically (MyISAM, Aria, CSV, ...) or by definition (MEMORY) is created with
   * its own engine.
   */
  engines?: readonly string[];
}

/** The engines of tables a backup carries logically or by definition only. */
export const LOGICAL_ENGINES: readonly string[] = [
  "MYISAM",
  "ARIA",
  "CSV",
  "ARCHIVE",
  "MEMORY",
  "HEAP",
  "BLACKHOLE",
  "INNODB",
];

function refused(target: string, kind: string, why: string): CorruptionError {
  return new CorruptionError(
    `${target}: refused the manifest's ${kind} statement: ${why} ` +
      "(a manifest is not trusted as SQL: restore only images you trust)",
  );
}

/** A recorded statement read as tokens, with the helpers both checks use. */
interface Statement {
  t: SqlToken[];
  /** Whether token `i` is the bare word `w` (upper case). */
  word: (i: number, w: string) => boolean;
  /** The refusal for `why`, naming the target and the statement. */
  fail: (why: string) => CorruptionError;
}

/** Tokenize `sql`, the `kind` statement of `target` (a text that cannot be read is refused). */
function statement(sql: string, target: string, kind: string): Statement {
  const fail = (why: string) => refused(printable(target), kind, why);
  let t: SqlToken[];
  try {
    t = tokenizeSql(sql);
  } catch (e) {
    throw fail(`it has ${(e as Error).message}`);
  }
  const word = (i: number, w: string) => t[i]?.kind === "word" && t[i].value === w;
  return { t, word, fail };
}

/** Index of an option's value starting at token `j`, past an optional `=`. */
function valueAt(t: SqlToken[], j: number): number {
  return t[j]?.value === "=" ? j + 1 : j;
}

/** Whether `dir` is `datadir` or inside it. */
function insideDatadir(dir: string, datadir: string): boolean {
  if (!isAbsolute(dir)) return false;
  const rel = relative(resolve(datadir), resolve(dir));
  return rel === "" || (!rel.startsWith("..") && !isAbsolute(rel));
}

/**
 * Check that `sql` is exactly one `CREATE TABLE` of `database`.`table` (quoted as
 * {@link quoteTable} quotes it) with a column list and InnoDB as its engine, that
 * it holds no SELECT (nor TABLE, UNION, INTO, LOAD_FILE, SLEEP, BENCHMARK), no second
 * statement, and no DATA DIRECTORY or INDEX DIRECTORY, unless `opts.force`, and
 * then only naming a directory inside `opts.datadir`. Throws CorruptionError
 * naming the table and what was refused.
 */
export function checkCreateTable(
  sql: string,
  database: string,
  table: string,
  opts: CreateCheckOptions,
): void {
  const target = quoteTable(database, table);
  const { t, word, fail } = statement(sql, target, "CREATE TABLE");
  if (!word(0, "CREATE") || !word(1, "TABLE")) throw fail("it does not start with CREATE TABLE");
  // The name: `db`.`table`, exactly the intended target.
  if (
    t[2]?.kind !== "quoted" || t[2].value !== database || t[3]?.value !== "." ||
    t[4]?.kind !== "quoted" || t[4].value !== table
  ) {
    throw fail(`it does not create ${printable(target)}`);
  }
  if (t[5]?.kind !== "symbol" || t[5].value !== "(") throw fail("it has no column list");
  let depth = 0;
  for (let i = 5; i < t.length; i++) {
    const k = t[i];
    if (k.kind === "symbol") {
      if (k.value === "(") depth++;
      else if (k.value === ")") depth--;
      else if (k.value === ";") throw fail("it holds more than one statement");
      if (depth < 0) throw fail("its parentheses do not match");
      continue;
    }
    if (k.kind !== "word") continue;
    if (FORBIDDEN_WORDS.has(k.value)) throw fail(`it holds ${k.value}`);
    if ((k.value === "DATA" || k.value === "INDEX") && word(i + 1, "DIRECTORY")) {
      const clause = `${k.value} DIRECTORY`;
      if (!opts.force) {
        throw fail(`it holds ${clause} (give --force to allow one inside the data directory)`);
      }
      const dir = t[valueAt(t, i + 2)];
      if (dir?.kind !== "string" || !insideDatadir(dir.value, opts.datadir)) {
        throw fail(
          `its ${clause} ${dir?.kind === "string" ? `'${printable(dir.value)}'` : ""} is not ` +
            `inside the server's data directory ${printable(opts.datadir)}`,
        );
      }
    }
    if (k.value === "ENGINE") {
      const engine = t[valueAt(t, i + 1)]?.value;
      if (engine !== "INNODB" && !opts.engines?.includes(String(engine))) {
        throw fail(`its engine is ${printable(engine ?? "missing")}, not InnoDB`);
      }
    }
  }
  if (depth !== 0) throw fail("its parentheses do not match");
}

/** Words a restore's CREATE DATABASE may hold after the name. */
const DATABASE_OPTION_WORDS = new Set([
  "DEFAULT",
  "CHARACTER",
  "CHARSET",
  "SET",
  "COLLATE",
  "COMMENT",
]);

/**
 * Check that `sql` is exactly one `CREATE DATABASE` of `database` (optionally
 * `IF NOT EXISTS`) followed only by character set, collation and comment
 * options. Throws CorruptionError naming the database.
 */
export function checkCreateDatabase(sql: string, database: string): void {
  const target = quoteIdentifier(database);
  const { t, word, fail } = statement(sql, target, "CREATE DATABASE");
  if (!word(0, "CREATE") || !(word(1, "DATABASE") || word(1, "SCHEMA"))) {
    throw fail("it does not start with CREATE DATABASE");
  }
  let i = 2;
  if (word(2, "IF") && word(3, "NOT") && word(4, "EXISTS")) i = 5;
  if (t[i]?.kind !== "quoted" || t[i].value !== database) {
    throw fail(`it does not create ${printable(target)}`);
  }
  for (let j = i + 1; j < t.length; j++) {
    const k = t[j];
    const prev = t[j - 1];
    if (k.kind === "string") continue;
    if (k.kind === "symbol" && k.value === "=") continue;
    if (k.kind === "word") {
      if (DATABASE_OPTION_WORDS.has(k.value)) continue;
      // A character set or collation name follows its keyword (or its '=').
      const named = prev.kind === "word" && ["SET", "CHARSET", "COLLATE"].includes(prev.value) ||
        prev.value === "=" && ["SET", "CHARSET", "COLLATE"].includes(t[j - 2]?.value ?? "");
      if (named && /^[A-Z0-9_]+$/.test(k.value)) continue;
    }
    throw fail(`it holds ${printable(k.kind === "word" ? k.value : `'${k.value}'`)}`);
  }
}
