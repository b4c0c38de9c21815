/**
 * Identifiers between SQL text and Unicode names: quoting for SQL (the one place
 * every identifier reaching SQL goes through) and parsing identifiers written on
 * the command line, bare or quoted with backticks, single or double quotes.
 */
import { UsageError } from "../errors.ts";

/** A table name as written by the user: the database is absent when not given. */
export interface QualifiedName {
  database?: string;
  table: string;
}

const QUOTES = new Set(["`", "'", '"']);

/**
 * Quote a name for SQL with backticks, doubling any backtick inside:
 * `` a`b `` becomes `` `a``b` ``. Every identifier that reaches SQL goes through
 * here. Throws UsageError for an empty name or one holding NUL.
 */
export function quoteIdentifier(name: string): string {
  if (name.length === 0) throw new UsageError("an identifier cannot be empty");
  if (name.includes("\0")) {
    throw new UsageError(`identifier ${JSON.stringify(name)} contains a NUL character`);
  }
  return "`" + name.replaceAll("`", "``") + "`";
}

/** Quote a database and table as `` `db`.`tbl` `` (see {@link quoteIdentifier}). */
export function quoteTable(database: string, table: string): string {
  return `${quoteIdentifier(database)}.${quoteIdentifier(table)}`;
}

/** Where one identifier ends: its name and the position after it. */
export interface ScannedIdentifier {
  name: string;
  end: number;
}

/** ASCII white space only: MySQL allows U+0080 and above (U+00A0 too) in bare names. */
function isSpace(ch: string): boolean {
  return /[ \t\n\r\f\v]/.test(ch);
}

/**
 * Read one identifier of `text` starting at `pos`: quoted (backticks, single or
 * double quotes, the quote doubled inside) or bare (up to whitespace, a dot or a
 * quote). `what` names the argument in error messages. Throws UsageError for an
 * unterminated quote, an empty or NUL-holding name, or nothing to read.
 */
export function scanIdentifier(text: string, pos: number, what = "identifier"): ScannedIdentifier {
  const ch = text[pos];
  let name = "";
  let end = pos;
  if (ch !== undefined && QUOTES.has(ch)) {
    let i = pos + 1;
    let closed = false;
    while (i < text.length) {
      if (text[i] === ch) {
        if (text[i + 1] === ch) {
          name += ch;
          i += 2;
          continue;
        }
        closed = true;
        i++;
        break;
      }
      name += text[i];
      i++;
    }
    if (!closed) throw new UsageError(`${what}: unterminated ${ch} quote in ${show(text)}`);
    end = i;
  } else {
    while (end < text.length) {
      const c = text[end];
      if (c === "." || QUOTES.has(c) || isSpace(c)) break;
      end++;
    }
    name = text.slice(pos, end);
  }
  if (name.length === 0) throw new UsageError(`${what}: empty name in ${show(text)}`);
  if (name.includes("\0")) throw new UsageError(`${what}: NUL character in ${show(text)}`);
  return { name, end };
}

/**
 * Read `db.tbl` or `tbl` (each part bare or quoted, whitespace allowed around
 * the dot) from `text` at `pos`; see {@link scanIdentifier}. Returns the name and
 * the position after it; more than two parts is a UsageError.
 */
export function scanQualifiedName(
  text: string,
  pos: number,
  what = "table name",
): { name: QualifiedName; end: number } {
  const parts: string[] = [];
  let i = pos;
  while (true) {
    const id = scanIdentifier(text, i, what);
    parts.push(id.name);
    let j = id.end;
    while (j < text.length && isSpace(text[j])) j++;
    if (text[j] !== ".") {
      i = id.end;
      break;
    }
    j++;
    while (j < text.length && isSpace(text[j])) j++;
    i = j;
  }
  if (parts.length > 2) {
    throw new UsageError(
      `${what}: ${show(text)} has ${parts.length} dotted parts; write db.tbl, and quote names ` +
        "holding dots (`a.b`)",
    );
  }
  const name: QualifiedName = parts.length === 2
    ? { database: parts[0], table: parts[1] }
    : { table: parts[0] };
  return { name, end: i };
}

/**
 * Parse one identifier written bare (`abc`) or quoted (`` `a b` ``, `'a b'`,
 * `"a b"`, the quote doubled inside) and return its Unicode name. Surrounding
 * whitespace is ignored; a bare name cannot hold whitespace, dots or quotes
 * (quote it). Throws UsageError naming `what` otherwise.
 */
export function parseIdentifier(text: string, what = "identifier"): string {
  const start = skipSpace(text, 0);
  const id = scanIdentifier(text, start, what);
  expectEnd(text, id.end, what);
  return id.name;
}

/**
 * Parse `db.tbl`, `` `d.b`.`t` `` or `tbl` into `{ database?, table }`, honouring
 * dots inside quotes. Throws UsageError naming `what` for anything else.
 */
export function parseQualifiedName(text: string, what = "table name"): QualifiedName {
  const { name, end } = scanQualifiedName(text, skipSpace(text, 0), what);
  expectEnd(text, end, what);
  return name;
}

/** Format a qualified name for display and SQL: `` `db`.`tbl` `` or `` `tbl` ``. */
export function formatQualifiedName(name: QualifiedName): string {
  return name.database === undefined
    ? quoteIdentifier(name.table)
    : quoteTable(name.database, name.table);
}

function skipSpace(text: string, pos: number): number {
  while (pos < text.length && isSpace(text[pos])) pos++;
  return pos;
}

function expectEnd(text: string, pos: number, what: string): void {
  const rest = skipSpace(text, pos);
  if (rest < text.length) {
    throw new UsageError(
      `${what}: unexpected ${show(text.slice(rest))} in ${show(text)} ` +
        "(quote names holding spaces, dots or quotes)",
    );
  }
}

function show(text: string): string {
  return JSON.stringify(text);
}
