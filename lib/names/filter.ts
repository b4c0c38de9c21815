/**
 * Table selection by `--include-tables` and `--exclude-tables`: a table `db.tbl`
 * matches a regular expression if the expression matches any of `db.tbl`,
 * `` `db`.tbl ``, `` db.`tbl` `` and `` `db`.`tbl` `` (backticks inside a quoted
 * name doubled). Expressions are compiled with the `u` flag: `.` is one character,
 * even outside the BMP, and `\p{L}` works.
 */
import { UsageError } from "../errors.ts";

/** The two selection expressions, as given on the command line. */
export interface TableFilterOptions {
  include?: string;
  exclude?: string;
}

/** Decides whether a table is selected. */
export type TableFilter = (database: string, table: string) => boolean;

function quoted(name: string): string {
  return "`" + name.replaceAll("`", "``") + "`";
}

/** The four strings a table is matched against, in the order described above. */
export function tableMatchForms(database: string, table: string): string[] {
  const qd = quoted(database);
  const qt = quoted(table);
  return [`${database}.${table}`, `${qd}.${table}`, `${database}.${qt}`, `${qd}.${qt}`];
}

/**
 * Compile one expression with the `u` flag; an invalid one is a UsageError that
 * quotes it and names `option`.
 */
export function compileTableRegex(source: string, option: string): RegExp {
  try {
    return new RegExp(source, "u");
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    throw new UsageError(`${option}: invalid regular expression ${JSON.stringify(source)}: ${why}`);
  }
}

/**
 * Build the selection predicate: a table is selected if it matches `include`
 * (every table when absent) and does not match `exclude`. Matching is a search,
 * not anchored: use `^` and `$`. Throws UsageError for an invalid expression.
 */
export function compileTableFilter(options: TableFilterOptions): TableFilter {
  const include = options.include === undefined
    ? undefined
    : compileTableRegex(options.include, "--include-tables");
  const exclude = options.exclude === undefined
    ? undefined
    : compileTableRegex(options.exclude, "--exclude-tables");
  const matches = (re: RegExp, forms: string[]) => forms.some((f) => re.test(f));
  return (database, table) => {
    if (!include && !exclude) return true;
    const forms = tableMatchForms(database, table);
    if (include && !matches(include, forms)) return false;
    if (exclude && matches(exclude, forms)) return false;
    return true;
  };
}
