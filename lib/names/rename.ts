/**
 * `--rename "OLD TO NEW"`: restore table OLD under the name NEW. Each name is
 * `tbl` or `db.tbl`, every part bare or quoted with backticks, single or double
 * quotes (the quote doubled inside); `TO` in any letter case, with whitespace
 * around it.
 */
import { UsageError } from "../errors.ts";
import { type QualifiedName, scanQualifiedName } from "./quote.ts";

/** One rename: the table as it is in the backup and the name it gets. */
export interface Rename {
  from: QualifiedName;
  to: QualifiedName;
}

const USAGE = 'expected "OLD TO NEW", e.g. "db.t TO db.t2" or "`a b`.t to `c`.`d`"';

/**
 * Parse one `--rename` argument. Throws UsageError naming the argument when it
 * is not two names separated by `TO`.
 */
export function parseRename(arg: string): Rename {
  const what = `--rename ${JSON.stringify(arg)}`;
  let i = skipSpace(arg, 0);
  if (i >= arg.length) throw new UsageError(`${what}: ${USAGE}`);
  const from = scanQualifiedName(arg, i, what);
  i = from.end;
  const afterFrom = skipSpace(arg, i);
  if (afterFrom === i || arg.slice(afterFrom, afterFrom + 2).toLowerCase() !== "to") {
    throw new UsageError(`${what}: ${USAGE}`);
  }
  i = afterFrom + 2;
  const beforeTo = skipSpace(arg, i);
  if (beforeTo === i || beforeTo >= arg.length) throw new UsageError(`${what}: ${USAGE}`);
  const to = scanQualifiedName(arg, beforeTo, what);
  if (skipSpace(arg, to.end) < arg.length) {
    throw new UsageError(`${what}: unexpected text after the new name; ${USAGE}`);
  }
  return { from: from.name, to: to.name };
}

function key(name: QualifiedName): string {
  return JSON.stringify([name.database ?? null, name.table]);
}

function display(name: QualifiedName): string {
  return name.database === undefined ? name.table : `${name.database}.${name.table}`;
}

/**
 * Parse every `--rename` argument and reject two renames of the same table or
 * two renames onto the same new name (UsageError naming both arguments).
 */
export function parseRenames(args: readonly string[]): Rename[] {
  const renames = args.map(parseRename);
  const sources = new Map<string, string>();
  const targets = new Map<string, string>();
  renames.forEach((r, i) => {
    const arg = JSON.stringify(args[i]);
    const fromKey = key(r.from);
    const earlierFrom = sources.get(fromKey);
    if (earlierFrom) {
      throw new UsageError(
        `--rename ${earlierFrom} and ${arg} both rename table ${display(r.from)}`,
      );
    }
    sources.set(fromKey, arg);
    const toKey = key(r.to);
    const earlierTo = targets.get(toKey);
    if (earlierTo) {
      throw new UsageError(
        `--rename ${earlierTo} and ${arg} both rename onto ${display(r.to)}`,
      );
    }
    targets.set(toKey, arg);
  });
  return renames;
}

function skipSpace(text: string, pos: number): number {
  while (pos < text.length && /\s/u.test(text[pos])) pos++;
  return pos;
}
