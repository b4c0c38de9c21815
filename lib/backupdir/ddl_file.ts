/**
 * Table definitions from an SQL file (`--ddl-file`), as `mariadb-dump --no-data`
 * or `mysqldump --no-data` write them or as a user writes them by hand: the file
 * is split into statements (quotes, backticks, comments and `DELIMITER` lines
 * respected), `USE db` statements set the current database, and every `CREATE
 * TABLE [IF NOT EXISTS] [db.]name ...` is kept under its database and name.
 */
import { scanQualifiedName } from "../names/quote.ts";

/** A CREATE TABLE statement found in the file. */
export interface DdlTable {
  /** Database from a qualified name or the last `USE`; undefined when the file never says. */
  database?: string;
  name: string;
  /** The statement, without its delimiter. */
  statement: string;
}

/** Split SQL text into statements (comments kept inside statements, empty ones dropped). */
export function splitStatements(text: string): string[] {
  const out: string[] = [];
  let delimiter = ";";
  let cur = "";
  let i = 0;
  const push = () => {
    const s = cur.trim();
    if (s) out.push(s);
    cur = "";
  };
  while (i < text.length) {
    // DELIMITER lines (the client's command, not SQL) change the statement end.
    if ((i === 0 || text[i - 1] === "\n") && /^delimiter[ \t]/i.test(text.slice(i, i + 10))) {
      const eol = text.indexOf("\n", i);
      const line = text.slice(i, eol < 0 ? text.length : eol);
      push();
      delimiter = line.slice(9).trim() || ";";
      i = eol < 0 ? text.length : eol + 1;
      continue;
    }
    const c = text[i];
    if (c === "'" || c === '"' || c === "`") {
      let j = i + 1;
      while (j < text.length && text[j] !== c) j += text[j] === "\\" && c !== "`" ? 2 : 1;
      cur += text.slice(i, j + 1);
      i = j + 1;
      continue;
    }
    if (c === "-" && text[i + 1] === "-" && /[ \t\r\n]/.test(text[i + 2] ?? " ") || c === "#") {
      const eol = text.indexOf("\n", i);
      i = eol < 0 ? text.length : eol + 1;
      cur += "\n";
      continue;
    }
    if (c === "/" && text[i + 1] === "*") {
      const end = text.indexOf("*/", i + 2);
      const stop = end < 0 ? text.length : end + 2;
      cur += text.slice(i, stop);
      i = stop;
      continue;
    }
    if (text.startsWith(delimiter, i)) {
      push();
      i += delimiter.length;
      continue;
    }
    cur += c;
    i++;
  }
  push();
  return out;
}

/** Every CREATE TABLE of an SQL text; `file` names it in errors. */
export function parseDdl(text: string, file: string): DdlTable[] {
  const tables: DdlTable[] = [];
  let current: string | undefined;
  for (const stmt of splitStatements(text)) {
    const body = stmt.replace(/^(\/\*[^!][\s\S]*?\*\/\s*)+/, "");
    const use = /^use\s+/i.exec(body);
    if (use) {
      current = scanQualifiedName(body, use[0].length, `${file}: USE`).name.table;
      continue;
    }
    const create = /^create\s+(?:or\s+replace\s+)?table\s+(?:if\s+not\s+exists\s+)?/i.exec(body);
    if (!create) continue;
    const scanned = scanQualifiedName(body, create[0].length, `${file}: CREATE TABLE`);
    tables.push({
      database: scanned.name.database ?? current,
      name: scanned.name.table,
      statement: body,
    });
  }
  return tables;
}

/**
 * The statement that defines `database`.`name`: one naming that database, or
 * (for files without database context) the only one of that name.
 */
export function findDefinition(
  tables: DdlTable[],
  database: string,
  name: string,
): DdlTable | undefined {
  const exact = tables.filter((t) => t.database === database && t.name === name);
  if (exact.length) return exact[exact.length - 1];
  const loose = tables.filter((t) => t.database === undefined && t.name === name);
  return loose.length === 1 ? loose[0] : undefined;
}
