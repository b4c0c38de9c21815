/**
 * Where copy-back takes table definitions from when the backup has none of its
 * own (a `mariadb-backup --prepare --export` directory): `--ddl-file=FILE`
 * (CREATE TABLE statements, e.g. `mariadb-dump --no-data`), or
 * `--create-from-server` (SHOW CREATE TABLE of the same table on the target
 * server, over one short connection).
 */
import { readFile } from "node:fs/promises";
import type { Connection } from "mysql2/promise";
import type { Options } from "./options.ts";
import { UsageError } from "../errors.ts";
import { findDefinition, parseDdl } from "../backupdir/ddl_file.ts";
import type { DefinitionResolver } from "../backupdir/foreign_source.ts";
import { connect, endQuietly } from "../server/connection.ts";
import { showCreateTableIfAny } from "../server/export.ts";

/** A resolver for the options, and what to call when the definitions are all read. */
export async function definitionResolver(
  o: Options,
): Promise<{ resolve: DefinitionResolver; done: () => Promise<void> }> {
  if (o.ddlFile !== undefined && o.createFromServer) {
    throw new UsageError("give only one of --ddl-file and --create-from-server");
  }
  if (o.ddlFile !== undefined) {
    let text: string;
    try {
      text = await readFile(o.ddlFile, "utf8");
    } catch (e) {
      throw new UsageError(`--ddl-file=${o.ddlFile}: cannot read it (${(e as Error).message})`);
    }
    const tables = parseDdl(text, o.ddlFile);
    if (tables.length === 0) {
      throw new UsageError(`--ddl-file=${o.ddlFile}: no CREATE TABLE statement in it`);
    }
    return {
      resolve: (db, t) => Promise.resolve(findDefinition(tables, db, t)?.statement),
      done: async () => {},
    };
  }
  if (o.createFromServer) {
    let conn: Connection | undefined;
    return {
      async resolve(db, t) {
        conn ??= await connect(o);
        return await showCreateTableIfAny(conn, db, t);
      },
      done: async () => {
        if (conn) await endQuietly(conn);
      },
    };
  }
  return { resolve: () => Promise.resolve(undefined), done: async () => {} };
}
