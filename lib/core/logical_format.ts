/**
 * The logical table format: the rows of a table transportable tablespaces cannot
 * carry (MyISAM, Aria, CSV, InnoDB in the system or a general tablespace), as a
 * UTF-8 text file of SQL, one statement per line, so it streams (written and
 * loaded line by line), compresses well, and is a script any client can load.
 * docs/FORMAT.md ("Logical tables") is the specification; in short:
 *
 * ```
 * -- ibvault logical table 1
 * -- table `shop`.`legacy`; columns `id`,`name`,`blob`; load with time_zone='+00:00'
 * INSERT INTO `legacy` (`id`,`name`,`blob`) VALUES (1,0x616263,NULL),(2,'',0x00ff);
 * -- end 2 rows
 * ```
 *
 * Values are exact: numbers as the server prints them, temporal values quoted
 * (TIMESTAMP in UTC), every other value (strings, binary, BIT, ENUM, SET, JSON,
 * spatial) as a hexadecimal literal of its bytes in the column's own character
 * set (an empty one as `''`), so no character set conversion touches them.
 * Generated columns are left out (the server computes them). Hex and the quoted
 * forms hold no line break, so a line is a statement. The last line counts the
 * rows, so a truncated file is detected.
 */
import { CorruptionError } from "../errors.ts";
import { quoteIdentifier } from "../names/quote.ts";

/** The first line of every logical table file. */
export const LOGICAL_MAGIC = "-- ibvault logical table 1";

/** How a column's values are written. */
export type ValueKind = "number" | "temporal" | "text" | "hex";

/** A column of a logical table (generated columns never appear). */
export interface LogicalColumn {
  name: string;
  kind: ValueKind;
}

const NUMBER_TYPES = new Set([
  "tinyint",
  "smallint",
  "mediumint",
  "int",
  "integer",
  "bigint",
  "decimal",
  "numeric",
  "float",
  "double",
  "real",
  "year",
]);
const TEMPORAL_TYPES = new Set(["date", "datetime", "timestamp", "time"]);
/** Types whose values are short ASCII text the server parses back (MariaDB 10.7+ UUID, INET). */
const TEXT_TYPES = new Set(["uuid", "inet4", "inet6"]);

/** The value kind of an information_schema.COLUMNS DATA_TYPE. */
export function valueKind(dataType: string): ValueKind {
  const t = dataType.toLowerCase();
  if (NUMBER_TYPES.has(t)) return "number";
  if (TEMPORAL_TYPES.has(t)) return "temporal";
  if (TEXT_TYPES.has(t)) return "text";
  return "hex";
}

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"));
const ascii = new TextDecoder("latin1");

function hexOf(bytes: Uint8Array): string {
  let s = "0x";
  for (let i = 0; i < bytes.length; i++) s += HEX[bytes[i]];
  return s;
}

const NUMBER_TEXT = /^[-+]?[0-9][0-9.eE+-]*$/;
const TEMPORAL_TEXT = /^-?[0-9][0-9 :.-]*$/;
const PLAIN_TEXT = /^[0-9A-Za-z:.\-]*$/;

/**
 * One value as SQL: NULL, a number, a quoted temporal or text value, or a hex
 * literal. A number or temporal value whose bytes do not look like one (never
 * seen from a server) is written as a hex literal, so nothing unchecked lands
 * in the statement.
 */
export function encodeValue(kind: ValueKind, bytes: Uint8Array | null): string {
  if (bytes === null) return "NULL";
  if (bytes.length === 0) return "''";
  if (kind === "hex") return hexOf(bytes);
  const s = ascii.decode(bytes);
  if (kind === "number" && NUMBER_TEXT.test(s)) return s;
  if (kind === "temporal" && TEMPORAL_TEXT.test(s)) return `'${s}'`;
  if (kind === "text" && PLAIN_TEXT.test(s)) return `'${s}'`;
  return hexOf(bytes);
}

/** The header lines of a logical table file for `database`.`table`. */
export function logicalHeader(database: string, table: string, columns: LogicalColumn[]): string {
  return `${LOGICAL_MAGIC}\n-- table ${quoteIdentifier(database)}.${quoteIdentifier(table)}; ` +
    `columns ${columns.map((c) => quoteIdentifier(c.name)).join(",")}; ` +
    "load with time_zone='+00:00', foreign_key_checks=0, sql_mode='NO_AUTO_VALUE_ON_ZERO'\n";
}

/** The last line: the number of rows. */
export function logicalFooter(rows: number): string {
  return `-- end ${rows} rows\n`;
}

/**
 * Groups rows into INSERT statements of about `maxBytes` (a row larger than
 * that is a statement of its own). `add` returns a finished line when the batch
 * is full; `flush` the last one.
 */
export class InsertBatcher {
  #head: string;
  #parts: string[] = [];
  #bytes = 0;
  #maxBytes: number;
  #columns: LogicalColumn[];
  /** Rows added so far. */
  rows = 0;

  /** A batcher for `table` (unqualified: the loader names the target) and its columns. */
  constructor(table: string, columns: LogicalColumn[], maxBytes = 1 << 20) {
    this.#columns = columns;
    this.#maxBytes = maxBytes;
    this.#head = `INSERT INTO ${quoteIdentifier(table)} (` +
      columns.map((c) => quoteIdentifier(c.name)).join(",") + ") VALUES ";
  }

  /** Add one row (values in column order, raw bytes or null); a full statement line, or undefined. */
  add(values: readonly (Uint8Array | null)[]): string | undefined {
    if (values.length !== this.#columns.length) {
      throw new Error(`row has ${values.length} values for ${this.#columns.length} columns`);
    }
    const tuple = "(" + values.map((v, i) => encodeValue(this.#columns[i].kind, v)).join(",") + ")";
    this.#parts.push(tuple);
    this.#bytes += tuple.length + 1;
    this.rows++;
    return this.#bytes >= this.#maxBytes ? this.flush() : undefined;
  }

  /** The pending rows as one statement line, or undefined when none are pending. */
  flush(): string | undefined {
    if (this.#parts.length === 0) return undefined;
    const line = this.#head + this.#parts.join(",") + ";\n";
    this.#parts = [];
    this.#bytes = 0;
    return line;
  }
}

/** A checked INSERT line: where the table name is, and how many rows it holds. */
export interface ParsedInsert {
  /** Offset just after `INSERT INTO ` (the table name starts here). */
  nameStart: number;
  /** Offset after the table name. */
  nameEnd: number;
  rows: number;
}

/**
 * Check one statement line of a logical table file against the format
 * (`INSERT INTO `t` (`c`,...) VALUES (v,...),...;` with only the value forms
 * {@link encodeValue} writes) and count its rows. Anything else is a
 * CorruptionError naming `where`: a loader runs nothing it did not check.
 */
export function parseInsertLine(line: string, columns: number, where: string): ParsedInsert {
  const bad = (why: string, at: number) =>
    new CorruptionError(`${where}: not a logical table statement (${why} at column ${at + 1})`);
  const head = "INSERT INTO ";
  if (!line.startsWith(head)) throw bad("expected INSERT INTO", 0);
  let i = head.length;
  const ident = (): void => {
    if (line[i] !== "`") throw bad("expected a quoted name", i);
    i++;
    while (i < line.length) {
      if (line[i] === "`") {
        if (line[i + 1] === "`") {
          i += 2;
          continue;
        }
        i++;
        return;
      }
      i++;
    }
    throw bad("unterminated name", i);
  };
  const nameStart = i;
  ident();
  const nameEnd = i;
  if (line.slice(i, i + 2) !== " (") throw bad("expected the column list", i);
  i += 2;
  for (let c = 0; c < columns; c++) {
    if (c > 0) {
      if (line[i] !== ",") throw bad("expected ,", i);
      i++;
    }
    ident();
  }
  const values = ") VALUES ";
  if (line.slice(i, i + values.length) !== values) throw bad("expected VALUES", i);
  i += values.length;
  let rows = 0;
  while (true) {
    if (line[i] !== "(") throw bad("expected (", i);
    i++;
    for (let c = 0; c < columns; c++) {
      if (c > 0) {
        if (line[i] !== ",") throw bad("expected , between values", i);
        i++;
      }
      i = scanValue(line, i, bad);
    }
    if (line[i] !== ")") throw bad(`expected ) after ${columns} values`, i);
    i++;
    rows++;
    if (line[i] === ",") {
      i++;
      continue;
    }
    if (line[i] === ";" && i === line.length - 1) break;
    throw bad("expected , or ; at the end", i);
  }
  return { nameStart, nameEnd, rows };
}

function scanValue(line: string, i: number, bad: (why: string, at: number) => Error): number {
  if (line.startsWith("NULL", i)) return i + 4;
  if (line[i] === "0" && line[i + 1] === "x") {
    let j = i + 2;
    while (/[0-9a-f]/.test(line[j] ?? "")) j++;
    if (j === i + 2 || (j - i) % 2 !== 0) throw bad("malformed hex literal", i);
    return j;
  }
  if (line[i] === "'") {
    let j = i + 1;
    while (j < line.length && /[0-9A-Za-z :.\-]/.test(line[j])) j++;
    if (line[j] !== "'") throw bad("malformed quoted value", i);
    return j + 1;
  }
  let j = i;
  while (j < line.length && /[-+0-9.eE]/.test(line[j])) j++;
  if (j === i || !NUMBER_TEXT.test(line.slice(i, j))) throw bad("malformed value", i);
  return j;
}

/** Split a byte stream into lines (without the `\n`), refusing lines longer than `maxLine` bytes. */
export async function* readLines(
  data: AsyncIterable<Uint8Array>,
  where: string,
  maxLine = 256 << 20,
): AsyncGenerator<string> {
  const decoder = new TextDecoder("utf-8", { fatal: true });
  let pending: Uint8Array[] = [];
  let pendingBytes = 0;
  const take = (last: Uint8Array): string => {
    const parts = [...pending, last];
    pending = [];
    pendingBytes = 0;
    const total = parts.reduce((n, p) => n + p.length, 0);
    const joined = new Uint8Array(total);
    let o = 0;
    for (const p of parts) {
      joined.set(p, o);
      o += p.length;
    }
    try {
      return decoder.decode(joined);
    } catch {
      throw new CorruptionError(`${where}: a line is not valid UTF-8`);
    }
  };
  for await (const chunk of data) {
    let start = 0;
    while (start < chunk.length) {
      const nl = chunk.indexOf(10, start);
      if (nl < 0) {
        const rest = chunk.slice(start);
        pending.push(rest);
        pendingBytes += rest.length;
        if (pendingBytes > maxLine) {
          throw new CorruptionError(`${where}: a line is longer than ${maxLine} bytes`);
        }
        break;
      }
      yield take(chunk.subarray(start, nl));
      start = nl + 1;
    }
  }
  if (pendingBytes > 0) {
    throw new CorruptionError(`${where}: the file ends without a line break (truncated?)`);
  }
}
