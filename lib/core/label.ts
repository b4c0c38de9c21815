/** How tables are named in messages and reports: `` `db`.`tbl` `` (Unicode names). */

/** A database and table name. */
export interface TableName {
  database: string;
  name: string;
}

const q = (s: string) => "`" + s.replaceAll("`", "``") + "`";

/** `` `db`.`tbl` `` for messages and reports (never throws, whatever the names hold). */
export function tableLabel(database: string, name: string): string {
  return `${q(database)}.${q(name)}`;
}

/** {@link tableLabel} of a {@link TableName}. */
export function label(t: TableName): string {
  return tableLabel(t.database, t.name);
}
