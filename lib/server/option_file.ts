/**
 * MySQL option files (`my.cnf`): the client groups (`[client]`,
 * `[client-server]`, `[client-mariadb]`, `[mariadb-client]`), MySQL Enterprise
 * Backup's `[mysqlbackup]` and `[ibvault]`, read by the rules of the MySQL client
 * programs. `--login-path` (MySQL's obfuscated `~/.mylogin.cnf`) is not read.
 */
import { accessSync, constants, readdirSync, readFileSync, statSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, isAbsolute, join, resolve } from "node:path";
import { UsageError } from "../errors.ts";

/** Which option files to read (the `--defaults-*` options, and the home directory). */
export interface OptionFileRequest {
  /** Read only this file (a missing one is a UsageError). */
  defaultsFile?: string;
  /** Read this file after the default ones (a missing one is a UsageError). */
  defaultsExtraFile?: string;
  /** Read no option file at all. */
  noDefaults?: boolean;
  /** Home directory for `~/.my.cnf` (default: the user's). */
  home?: string;
}

/** Option values by long name (dashes, no `loose-`): a string, or true for a bare name. */
export type OptionValues = Record<string, string | true>;

/**
 * The groups ibvault reads, lowest precedence first: the groups every MariaDB/MySQL
 * client reads, in the order the MariaDB clients list them (`[client]`, then
 * MariaDB's `[client-server]` and `[client-mariadb]`), the MariaDB client
 * program's own `[mariadb-client]`, then the backup tool's groups: MEB's
 * `[mysqlbackup]` (so an MEB option file works unchanged) and `[ibvault]`.
 */
export const OPTION_GROUPS = [
  "client",
  "client-server",
  "client-mariadb",
  "mariadb-client",
  "mysqlbackup",
  "ibvault",
] as const;

const MAX_INCLUDE_DEPTH = 10;

/** The system-wide files, before `~/.my.cnf`. */
const SYSTEM_FILES = ["/etc/my.cnf", "/etc/mysql/my.cnf"];

/**
 * Read the option files and return the options of the {@link OPTION_GROUPS}. Files: `--defaults-file` alone if given (then
 * `--defaults-extra-file` is not read, as in MySQL); otherwise `/etc/my.cnf`,
 * `/etc/mysql/my.cnf`, `~/.my.cnf` (each skipped silently when missing or
 * unreadable), then `--defaults-extra-file`. `--no-defaults` reads nothing.
 * Precedence: a later group of {@link OPTION_GROUPS} over an earlier one
 * (`[ibvault]` over `[mysqlbackup]` over the client groups), whatever the order in
 * the files; within a group, the later value wins.
 * Syntax: `key=value`, `key = "quoted value"` (escapes `\n \t \r \b \s \\ \" \'`),
 * a bare `key` (true), comments `#` and `;` on their own line and `#` after a
 * value outside quotes, `!include FILE`, `!includedir DIR` (its `*.cnf` files in
 * name order; relative paths resolve against the including file's directory).
 * Keys: underscores become dashes and a `loose-` prefix is dropped. Errors are
 * UsageErrors naming the file and line: a missing or unreadable file named by
 * `--defaults-file` or `--defaults-extra-file` (even one the other options mean
 * is not read), an option outside any group, a bad line.
 */
export function readOptionFiles(request: OptionFileRequest): OptionValues {
  const groups: Record<string, OptionValues> = {};
  for (const g of OPTION_GROUPS) groups[g] = {};
  // A file named on the command line must be there even when other options mean
  // it is not read (--no-defaults, or --defaults-extra-file beside --defaults-file):
  // running with options other than the ones the user pointed at is never right.
  for (
    const [option, file] of [
      ["--defaults-file", request.defaultsFile],
      ["--defaults-extra-file", request.defaultsExtraFile],
    ] as const
  ) {
    if (file !== undefined) checkReadable(file, option);
  }
  if (request.noDefaults) return {};
  if (request.defaultsFile !== undefined) {
    readRequired(request.defaultsFile, "--defaults-file", groups);
  } else {
    const home = request.home ?? homedir();
    for (const file of [...SYSTEM_FILES, join(home, ".my.cnf")]) {
      const text = readOptional(file);
      if (text !== undefined) parseOptionText(text, file, groups, 0);
    }
    if (request.defaultsExtraFile !== undefined) {
      readRequired(request.defaultsExtraFile, "--defaults-extra-file", groups);
    }
  }
  const merged: OptionValues = {};
  for (const g of OPTION_GROUPS) Object.assign(merged, groups[g]);
  return merged;
}

function readRequired(
  file: string,
  option: string,
  groups: Record<string, OptionValues>,
): void {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (err) {
    throw new UsageError(`${option}=${file}: cannot read the file (${errorCode(err)})`);
  }
  parseOptionText(text, file, groups, 0);
}

function checkReadable(file: string, option: string): void {
  try {
    const st = statSync(file);
    if (st.isDirectory()) throw Object.assign(new Error("directory"), { code: "EISDIR" });
    accessSync(file, constants.R_OK);
  } catch (err) {
    throw new UsageError(`${option}=${file}: cannot read the file (${errorCode(err)})`);
  }
}

function readOptional(file: string): string | undefined {
  try {
    return readFileSync(file, "utf8");
  } catch {
    return undefined;
  }
}

function errorCode(err: unknown): string {
  const code = (err as { code?: string })?.code;
  if (code === "ENOENT") return "no such file";
  if (code === "EACCES") return "permission denied";
  if (code === "EISDIR") return "is a directory";
  return code ?? String(err);
}

/** Normalise an option name: underscores to dashes, `loose-` dropped. */
export function normalizeOptionName(name: string): string {
  let key = name.trim().replaceAll("_", "-");
  if (key.startsWith("loose-")) key = key.slice("loose-".length);
  return key;
}

/**
 * Parse the text of one option file into `groups` (only the groups present as
 * keys are kept), following `!include` and `!includedir`. `file` names the text
 * in errors and anchors relative include paths.
 */
export function parseOptionText(
  text: string,
  file: string,
  groups: Record<string, OptionValues>,
  depth = 0,
): void {
  if (depth > MAX_INCLUDE_DEPTH) {
    throw new UsageError(
      `${file}: option files include each other more than ${MAX_INCLUDE_DEPTH} deep`,
    );
  }
  let current: string | undefined;
  const lines = text.replace(/^\ufeff/, "").split(/\r?\n/);
  for (let n = 0; n < lines.length; n++) {
    const where = `${file}:${n + 1}`;
    const line = lines[n].trim();
    if (line === "" || line.startsWith("#") || line.startsWith(";")) continue;
    if (line.startsWith("!")) {
      directive(line, file, where, groups, depth);
      continue;
    }
    if (line.startsWith("[")) {
      const close = line.indexOf("]");
      const rest = close < 0 ? "" : line.slice(close + 1).trim();
      if (close < 0 || (rest !== "" && !rest.startsWith("#") && !rest.startsWith(";"))) {
        throw new UsageError(`${where}: bad group header ${JSON.stringify(line)}`);
      }
      current = line.slice(1, close).trim().toLowerCase();
      continue;
    }
    if (current === undefined) {
      throw new UsageError(`${where}: option ${JSON.stringify(line)} before any [group]`);
    }
    const target = Object.hasOwn(groups, current) ? groups[current] : undefined;
    if (!target) continue;
    const [key, value] = parseOptionLine(line, where);
    target[key] = value;
  }
}

function directive(
  line: string,
  file: string,
  where: string,
  groups: Record<string, OptionValues>,
  depth: number,
): void {
  const m = /^!(include|includedir)\s+(.+)$/.exec(line);
  if (!m) throw new UsageError(`${where}: unknown directive ${JSON.stringify(line)}`);
  const target = isAbsolute(m[2].trim()) ? m[2].trim() : resolve(dirname(file), m[2].trim());
  if (m[1] === "include") {
    let text: string;
    try {
      text = readFileSync(target, "utf8");
    } catch (err) {
      throw new UsageError(
        `${where}: !include ${target}: cannot read the file (${errorCode(err)})`,
      );
    }
    parseOptionText(text, target, groups, depth + 1);
    return;
  }
  let names: string[];
  try {
    names = readdirSync(target).filter((f) => f.endsWith(".cnf")).sort();
  } catch {
    return; // a missing !includedir is skipped, as packaged my.cnf files name optional ones
  }
  for (const name of names) {
    const path = join(target, name);
    const text = readOptional(path);
    if (text !== undefined) parseOptionText(text, path, groups, depth + 1);
  }
}

/** Split `key[=value]` (already trimmed, not a comment) into a normalised key and its value. */
function parseOptionLine(line: string, where: string): [string, string | true] {
  const body = stripComment(line);
  const eq = body.indexOf("=");
  const rawKey = eq < 0 ? body : body.slice(0, eq);
  const key = normalizeOptionName(rawKey);
  if (key === "" || /\s/.test(key)) {
    throw new UsageError(`${where}: bad option line ${JSON.stringify(line)}`);
  }
  if (eq < 0) return [key, true];
  let value = body.slice(eq + 1).trim();
  if (value.length >= 2 && (value[0] === '"' || value[0] === "'") && value.at(-1) === value[0]) {
    value = value.slice(1, -1);
  }
  return [key, unescape(value)];
}

/** Drop a `#` comment outside quotes (a backslash inside quotes escapes the next character). */
function stripComment(line: string): string {
  let quote = "";
  let escaped = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if ((c === '"' || c === "'") && !escaped) {
      if (!quote) quote = c;
      else if (quote === c) quote = "";
    } else if (!quote && c === "#") {
      return line.slice(0, i).trimEnd();
    }
    escaped = quote !== "" && c === "\\" && !escaped;
  }
  return line;
}

const ESCAPES: Record<string, string> = {
  n: "\n",
  t: "\t",
  r: "\r",
  b: "\b",
  s: " ",
  "\\": "\\",
  '"': '"',
  "'": "'",
};

/** Apply the option-file escapes; an unknown escape keeps its backslash. */
function unescape(value: string): string {
  let out = "";
  for (let i = 0; i < value.length; i++) {
    const c = value[i];
    if (c === "\\" && i + 1 < value.length) {
      const next = value[++i];
      out += ESCAPES[next] ?? `\\${next}`;
    } else {
      out += c;
    }
  }
  return out;
}
