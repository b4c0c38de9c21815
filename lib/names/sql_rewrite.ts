/**
 * Identifier-aware edits of the CREATE statements a backup records: moving every
 * reference to a database's objects to another database (`--rename 'shop TO
 * shop_copy'`), replacing DEFINER clauses, reading and retargeting foreign keys,
 * and finding the names a view or routine refers to. Built on the tokenizer, so
 * string literals and comments are never changed; new names are quoted by
 * `quote.ts`.
 */
import { quoteIdentifier, quoteTable } from "./quote.ts";
import {
  isKeyword,
  isName,
  joinTokens,
  nextCode,
  optionsForSqlMode,
  prevCode,
  readDottedName,
  type Token,
  tokenize,
} from "./sql_tokens.ts";

/** What a database rename rewrites. */
export interface DatabaseRename {
  from: string;
  to: string;
  /**
   * Names of the objects of `from` (tables, views, routines, triggers, events,
   * sequences): `from.x` is taken as a database-qualified name only when `x` is
   * one of them (otherwise `from` there is a table alias or a table named like
   * the database). `from.x.y` is always database-qualified.
   */
  objects: ReadonlySet<string>;
  /** Compare names ignoring letter case (lower_case_table_names 1 or 2). */
  foldCase?: boolean;
}

/** The outcome of a rewrite. */
export interface RewriteResult {
  sql: string;
  /** How many references were rewritten. */
  rewritten: number;
  /** The old database name appears inside a string literal (dynamic SQL is not rewritten). */
  inStrings: boolean;
}

const OBJECT_KINDS = ["VIEW", "TRIGGER", "PROCEDURE", "FUNCTION", "EVENT", "TABLE", "SEQUENCE"];

/** Token index of the object's name in `CREATE [...] KIND [IF NOT EXISTS] name`, or -1. */
export function objectNameIndex(tokens: Token[]): number {
  let i = nextCode(tokens, -1);
  if (!isKeyword(tokens[i], "CREATE")) return -1;
  while (i >= 0) {
    i = nextCode(tokens, i);
    if (i < 0) return -1;
    const t = tokens[i];
    if (t.kind === "word" && OBJECT_KINDS.includes(t.value.toUpperCase())) {
      let j = nextCode(tokens, i);
      if (isKeyword(tokens[j], "IF")) {
        j = nextCode(tokens, nextCode(tokens, nextCode(tokens, j))); // IF NOT EXISTS
      }
      return isName(tokens[j]) ? j : -1;
    }
    if (t.text === "(") return -1;
    if (isKeyword(t, "AS") || isKeyword(t, "BEGIN")) return -1;
  }
  return -1;
}

/**
 * What a CREATE statement creates: `VIEW`, `TRIGGER`, `PROCEDURE`, `FUNCTION`,
 * `EVENT`, `TABLE` or `SEQUENCE` (upper case), or undefined when `sql` is not a
 * CREATE of a named object (e.g. another statement altogether).
 */
export function createdKind(sql: string, sqlMode?: string): string | undefined {
  const tokens = tokenize(sql, optionsForSqlMode(sqlMode));
  const at = objectNameIndex(tokens);
  if (at < 0) return undefined;
  for (let i = at - 1; i >= 0; i--) {
    const t = tokens[i];
    if (t.kind === "word" && OBJECT_KINDS.includes(t.value.toUpperCase())) {
      return t.value.toUpperCase();
    }
  }
  return undefined;
}

/**
 * Rewrite every reference to the renamed databases in `sql` (see
 * {@link DatabaseRename}; several renames apply in one pass, so `a TO b, b TO a`
 * swaps); `sqlMode` is the mode the statement was created under (ANSI_QUOTES
 * changes what `"x"` is).
 */
export function rewriteDatabaseRefs(
  sql: string,
  renames: DatabaseRename | readonly DatabaseRename[],
  sqlMode?: string,
): RewriteResult {
  const list = Array.isArray(renames) ? renames : [renames as DatabaseRename];
  const tokens = tokenize(sql, optionsForSqlMode(sqlMode));
  const fold = (r: DatabaseRename, n: string) => r.foldCase ? n.toLowerCase() : n;
  const objectSets = list.map((r) =>
    r.foldCase ? new Set([...r.objects].map((o) => o.toLowerCase())) : r.objects
  );
  const replace = new Map<number, string>();
  const nameAt = objectNameIndex(tokens);
  let inStrings = false;
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i];
    if (t.kind === "string") {
      if (list.some((r) => t.value.includes(r.from))) inStrings = true;
      continue;
    }
    if (!isName(t)) continue;
    const which = list.findIndex((r) => fold(r, t.value) === fold(r, r.from));
    if (which < 0) continue;
    const before = prevCode(tokens, i);
    if (before >= 0 && (tokens[before].text === "." || tokens[before].text === "@")) continue;
    const name = readDottedName(tokens, i);
    if (!name || name.parts.length < 2) continue;
    const r = list[which];
    const qualified = name.parts.length >= 3 || i === nameAt ||
      objectSets[which].has(fold(r, name.parts[1]));
    if (!qualified) continue;
    replace.set(i, quoteIdentifier(r.to));
    i = name.at[name.at.length - 1];
  }
  return { sql: joinTokens(tokens, replace), rewritten: replace.size, inStrings };
}

/**
 * Put `database` in place of the database of the created object's own name
 * (`CREATE ... TRIGGER `old`.`trg``); an unqualified name is left as it is (it
 * is created in the current database).
 */
export function requalifyObjectName(sql: string, database: string, sqlMode?: string): string {
  const tokens = tokenize(sql, optionsForSqlMode(sqlMode));
  const at = objectNameIndex(tokens);
  const name = at < 0 ? undefined : readDottedName(tokens, at);
  if (!name || name.parts.length < 2) return sql;
  return joinTokens(tokens, new Map([[name.at[0], quoteIdentifier(database)]]));
}

/** A `DEFINER=user@host` clause. */
export interface Definer {
  user: string;
  host: string;
}

/** Token index range [start, end] of the value after `DEFINER =`, or undefined. */
function definerRange(tokens: Token[]): { key: number; start: number; end: number } | undefined {
  for (let i = 0; i < tokens.length; i++) {
    if (!isKeyword(tokens[i], "DEFINER")) continue;
    const eq = nextCode(tokens, i);
    if (eq < 0 || tokens[eq].text !== "=") continue;
    const first = nextCode(tokens, eq);
    if (first < 0) return undefined;
    if (isKeyword(tokens[first], "CURRENT_USER")) {
      let end = first;
      const open = nextCode(tokens, first);
      if (open >= 0 && tokens[open].text === "(") {
        const close = nextCode(tokens, open);
        if (close >= 0 && tokens[close].text === ")") end = close;
      }
      return { key: i, start: first, end };
    }
    const at = nextCode(tokens, first);
    if (at < 0 || tokens[at].text !== "@") return { key: i, start: first, end: first };
    const host = nextCode(tokens, at);
    return { key: i, start: first, end: host < 0 ? at : host };
  }
  return undefined;
}

function partValue(t: Token): string {
  return t.kind === "string" ? unescapeString(t.value) : t.value;
}

function unescapeString(raw: string): string {
  return raw.replace(/\\(.)/g, "$1").replaceAll("''", "'");
}

/**
 * The definer of a CREATE statement (`DEFINER=`u`@`h``, quoted any way), or
 * undefined when it has none or says CURRENT_USER.
 */
export function readDefiner(sql: string, sqlMode?: string): Definer | undefined {
  const tokens = tokenize(sql, optionsForSqlMode(sqlMode));
  const r = definerRange(tokens);
  if (!r || isKeyword(tokens[r.start], "CURRENT_USER")) return undefined;
  const user = partValue(tokens[r.start]);
  if (r.end === r.start) return { user, host: "%" };
  return { user, host: partValue(tokens[r.end]) };
}

/** Replace the DEFINER clause's value by `CURRENT_USER` (the statement unchanged if it has none). */
export function replaceDefiner(sql: string, sqlMode?: string): string {
  const tokens = tokenize(sql, optionsForSqlMode(sqlMode));
  const r = definerRange(tokens);
  if (!r) return sql;
  const replace = new Map<number, string>();
  replace.set(r.start, "CURRENT_USER");
  for (let i = r.start + 1; i <= r.end; i++) replace.set(i, "");
  return joinTokens(tokens, replace);
}

/** `` `user`@`host` `` for messages. */
export function formatDefiner(d: Definer): string {
  return `${quoteIdentifier(d.user)}@${quoteIdentifier(d.host)}`;
}

/** A foreign key of a CREATE TABLE statement. */
export interface ForeignKey {
  /** The constraint name, when the statement gives one. */
  name?: string;
  columns: string[];
  /** The referenced table's database when the statement names it (else: the table's own). */
  refDatabase?: string;
  refTable: string;
  refColumns: string[];
  /** Token indexes of the referenced name's parts (internal, for rewriting). */
  at: number[];
}

function readNameList(tokens: Token[], open: number): { names: string[]; end: number } {
  const names: string[] = [];
  let i = nextCode(tokens, open);
  while (i >= 0 && tokens[i].text !== ")") {
    if (isName(tokens[i])) names.push(tokens[i].value);
    i = nextCode(tokens, i);
  }
  return { names, end: i };
}

function foreignKeysOf(tokens: Token[]): ForeignKey[] {
  const keys: ForeignKey[] = [];
  for (let i = 0; i < tokens.length; i++) {
    if (!isKeyword(tokens[i], "FOREIGN")) continue;
    const key = nextCode(tokens, i);
    if (!isKeyword(tokens[key], "KEY")) continue;
    let name: string | undefined;
    const p1 = prevCode(tokens, i);
    const p2 = prevCode(tokens, p1);
    if (p1 >= 0 && isName(tokens[p1]) && isKeyword(tokens[p2], "CONSTRAINT")) {
      name = tokens[p1].value;
    }
    let j = nextCode(tokens, key);
    if (isName(tokens[j]) && tokens[j].text !== "(") j = nextCode(tokens, j); // index name
    if (j < 0 || tokens[j].text !== "(") continue;
    const cols = readNameList(tokens, j);
    const ref = nextCode(tokens, cols.end);
    if (!isKeyword(tokens[ref], "REFERENCES")) continue;
    const target = readDottedName(tokens, nextCode(tokens, ref));
    if (!target) continue;
    const open = nextCode(tokens, target.at[target.at.length - 1]);
    const refCols = open >= 0 && tokens[open].text === "("
      ? readNameList(tokens, open)
      : { names: [], end: open };
    const fk: ForeignKey = {
      columns: cols.names,
      refTable: target.parts[target.parts.length - 1],
      refColumns: refCols.names,
      at: target.at,
    };
    if (name !== undefined) fk.name = name;
    if (target.parts.length >= 2) fk.refDatabase = target.parts[target.parts.length - 2];
    keys.push(fk);
    i = Math.max(i, refCols.end);
  }
  return keys;
}

/** The foreign keys of a `SHOW CREATE TABLE` statement, in order. */
export function readForeignKeys(createTable: string): ForeignKey[] {
  return foreignKeysOf(tokenize(createTable));
}

/**
 * Point foreign keys elsewhere: `retarget` gets each key (its referenced
 * database resolved to `ownDatabase` when unqualified) and returns the new
 * referenced table, or undefined to keep it. A new target in `newOwnDatabase`
 * (the database the table itself is restored into) is written unqualified, as
 * the server writes it; any other is written `db`.`tbl`.
 */
export function retargetForeignKeys(
  createTable: string,
  ownDatabase: string,
  newOwnDatabase: string,
  retarget: (
    ref: { database: string; table: string },
  ) => { database: string; table: string } | undefined,
): string {
  const tokens = tokenize(createTable);
  const replace = new Map<number, string>();
  for (const fk of foreignKeysOf(tokens)) {
    const to = retarget({ database: fk.refDatabase ?? ownDatabase, table: fk.refTable });
    if (!to) continue;
    const text = to.database === newOwnDatabase
      ? quoteIdentifier(to.table)
      : quoteTable(to.database, to.table);
    const first = fk.at[0];
    const last = fk.at[fk.at.length - 1];
    replace.set(first, text);
    for (let k = first + 1; k <= last; k++) replace.set(k, "");
  }
  return replace.size ? joinTokens(tokens, replace) : createTable;
}

/**
 * Every dotted name of two or more parts in `sql` that could name an object of
 * a database (`db`.`x`, and the first two parts of `db`.`t`.`col`), plus bare
 * names: what a view or routine may refer to. Over-approximates (aliases and
 * columns appear too); callers match the result against known objects.
 */
export function referencedNames(
  sql: string,
  sqlMode?: string,
): { database?: string; name: string }[] {
  const tokens = tokenize(sql, optionsForSqlMode(sqlMode));
  const out: { database?: string; name: string }[] = [];
  for (let i = 0; i < tokens.length; i++) {
    if (!isName(tokens[i])) continue;
    const before = prevCode(tokens, i);
    if (before >= 0 && tokens[before].text === ".") continue;
    const name = readDottedName(tokens, i)!;
    if (name.parts.length === 1) out.push({ name: name.parts[0] });
    else {
      out.push({ database: name.parts[0], name: name.parts[1] });
      out.push({ name: name.parts[0] });
    }
    i = name.at[name.at.length - 1];
  }
  return out;
}

/**
 * In a `CREATE TRIGGER ... ON tbl` statement, put `database`.`table` (or `table`
 * alone when `qualify` is false) in place of the table after ON. The statement
 * is returned unchanged when it has no such clause.
 */
export function retargetTriggerTable(
  sql: string,
  database: string,
  table: string,
  sqlMode?: string,
): string {
  const tokens = tokenize(sql, optionsForSqlMode(sqlMode));
  const nameAt = objectNameIndex(tokens);
  if (nameAt < 0) return sql;
  for (let i = nameAt + 1; i < tokens.length; i++) {
    if (!isKeyword(tokens[i], "ON")) continue;
    const name = readDottedName(tokens, nextCode(tokens, i));
    if (!name) return sql;
    const replace = new Map<number, string>();
    const first = name.at[0];
    const last = name.at[name.at.length - 1];
    replace.set(first, quoteTable(database, table));
    for (let k = first + 1; k <= last; k++) replace.set(k, "");
    return joinTokens(tokens, replace);
  }
  return sql;
}
