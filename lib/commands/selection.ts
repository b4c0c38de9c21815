/**
 * The table selection of the command line: --include-tables, --exclude-tables
 * and --rename (and copy-back's --definer), decoded from --default-character-set
 * and checked before anything is touched.
 */
import type { Options } from "./options.ts";
import { compileTableFilter, type TableFilter } from "../names/filter.ts";
import { decodeArgument } from "../names/charset.ts";
import { parseRenames, type Rename } from "../names/rename.ts";
import { UsageError } from "../errors.ts";

/** The table selection of the command line: the filter and the expressions as decoded. */
export interface SelectionSpec {
  filter: TableFilter;
  include?: string;
  exclude?: string;
}

/**
 * Decode (--default-character-set) and compile --include-tables/--exclude-tables;
 * an invalid expression is a UsageError quoting it. Runs before anything is touched.
 */
export function selectionSpec(o: Options): SelectionSpec {
  const cs = o.defaultCharacterSet;
  const include = o.includeTables === undefined
    ? undefined
    : decodeArgument(o.includeTables, cs, "--include-tables");
  const exclude = o.excludeTables === undefined
    ? undefined
    : decodeArgument(o.excludeTables, cs, "--exclude-tables");
  return { filter: compileTableFilter({ include, exclude }), include, exclude };
}

/** The --rename options, decoded and parsed (UsageError naming a bad one). */
export function renamesOf(o: Options): Rename[] {
  return parseRenames(o.rename.map((r) => decodeArgument(r, o.defaultCharacterSet, "--rename")));
}

/** `--definer`: only CURRENT_USER is accepted. */
export function definerOption(value: string | undefined): boolean {
  if (value === undefined) return false;
  if (/^current_user(\(\))?$/i.test(value.trim())) return true;
  throw new UsageError(
    `--definer=${JSON.stringify(value)}: the only value is CURRENT_USER (objects whose ` +
      "definer has no account on the server are created with the restoring user as definer)",
  );
}
