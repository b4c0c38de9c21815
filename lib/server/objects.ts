/**
 * The objects a database holds besides its tables: views, triggers, stored
 * procedures and functions, events. Backup side: list them for the selected
 * databases (a trigger follows its table; `--skip-*` leaves kinds out, each
 * left-out object recorded with the reason) and capture each as `SHOW CREATE ...`
 * gives it, with the context it was created in (sql_mode, character_set_client,
 * collation_connection, the database collation, an event's time zone). Restore
 * side: create one object in a target database with that context restored, and
 * check what already exists and which definers the target lacks.
 */
import type { Connection } from "mysql2/promise";
import { quoteIdentifier, quoteTable } from "../names/quote.ts";
import { createdKind, type Definer, readDefiner } from "../names/sql_rewrite.ts";
import { CorruptionError, ServerError } from "../errors.ts";
import { driverMessage, queryRows } from "./facts.ts";

import type { ObjectKind, ObjectRecord, SkippedRecord } from "../core/manifest.ts";

export type { ObjectKind, ObjectRecord };

/** Every kind, in the order a restore creates them. */
export const OBJECT_KINDS: readonly ObjectKind[] = [
  "view",
  "procedure",
  "function",
  "trigger",
  "event",
];

/** An object the backup left out, and why. */
export type SkippedObject = SkippedRecord & { kind: ObjectKind };

/** An object found, before its definition is read. */
export interface ObjectRef {
  kind: ObjectKind;
  database: string;
  name: string;
  table?: string;
}

/** Which kinds to leave out (`--skip-views`, `--skip-triggers`, `--skip-routines`, `--skip-events`). */
export interface ObjectSkips {
  views?: boolean;
  triggers?: boolean;
  routines?: boolean;
  events?: boolean;
}

function skipOption(kind: ObjectKind, skips: ObjectSkips): string | undefined {
  if (kind === "view" && skips.views) return "--skip-views";
  if (kind === "trigger" && skips.triggers) return "--skip-triggers";
  if ((kind === "procedure" || kind === "function") && skips.routines) return "--skip-routines";
  if (kind === "event" && skips.events) return "--skip-events";
  return undefined;
}

/** The outcome of listing. */
export interface ObjectSelection {
  objects: ObjectRef[];
  skipped: SkippedObject[];
}

/**
 * Decide which of the found objects a backup takes: every object of a selected
 * database, except kinds left out by `skips`, and triggers whose table is not
 * selected (`tables`: the selected tables, TTS and logical). Pure.
 */
export function selectObjects(
  found: ObjectRef[],
  databases: readonly string[],
  tables: readonly { database: string; name: string }[],
  skips: ObjectSkips,
): ObjectSelection {
  const dbs = new Set(databases);
  const tableKeys = new Set(tables.map((t) => JSON.stringify([t.database, t.name])));
  const objects: ObjectRef[] = [];
  const skipped: SkippedObject[] = [];
  for (const o of found) {
    if (!dbs.has(o.database)) continue;
    const { kind, database, name } = o;
    const option = skipOption(o.kind, skips);
    if (option) {
      skipped.push({ kind, database, name, reason: `left out by ${option}` });
      continue;
    }
    if (o.kind === "trigger" && !tableKeys.has(JSON.stringify([o.database, o.table]))) {
      skipped.push({
        kind,
        database,
        name,
        reason: `its table ${quoteTable(o.database, o.table ?? "?")} is not selected`,
      });
      continue;
    }
    objects.push(o);
  }
  return { objects, skipped };
}

function inList(n: number): string {
  return Array.from({ length: n }, () => "?").join(", ");
}

/**
 * Every view, trigger, routine and event of `databases` on the server, in a
 * stable order (triggers in their action order). Names are compared exactly in
 * JavaScript afterwards, not with the server's collation. MariaDB packages
 * (sql_mode=ORACLE) are not listed.
 */
export async function listObjects(
  conn: Connection,
  databases: readonly string[],
): Promise<ObjectRef[]> {
  if (databases.length === 0) return [];
  const dbs = [...databases];
  const wanted = new Set(dbs);
  const q = inList(dbs.length);
  const views = await queryRows<{ db: string; name: string }>(
    conn,
    `SELECT TABLE_SCHEMA AS db, TABLE_NAME AS name FROM information_schema.VIEWS ` +
      `WHERE TABLE_SCHEMA IN (${q}) ORDER BY TABLE_SCHEMA, TABLE_NAME`,
    dbs,
  );
  const routines = await queryRows<{ db: string; name: string; type: string }>(
    conn,
    `SELECT ROUTINE_SCHEMA AS db, ROUTINE_NAME AS name, ROUTINE_TYPE AS type ` +
      `FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA IN (${q}) ` +
      `ORDER BY ROUTINE_SCHEMA, ROUTINE_TYPE, ROUTINE_NAME`,
    dbs,
  );
  const triggers = await queryRows<{ db: string; name: string; tbl: string }>(
    conn,
    `SELECT TRIGGER_SCHEMA AS db, TRIGGER_NAME AS name, EVENT_OBJECT_TABLE AS tbl ` +
      `FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA IN (${q}) ` +
      `ORDER BY TRIGGER_SCHEMA, EVENT_OBJECT_TABLE, EVENT_MANIPULATION, ACTION_TIMING, ACTION_ORDER`,
    dbs,
  );
  const events = await queryRows<{ db: string; name: string }>(
    conn,
    `SELECT EVENT_SCHEMA AS db, EVENT_NAME AS name FROM information_schema.EVENTS ` +
      `WHERE EVENT_SCHEMA IN (${q}) ORDER BY EVENT_SCHEMA, EVENT_NAME`,
    dbs,
  );
  const out: ObjectRef[] = [];
  const add = (o: ObjectRef) => {
    if (wanted.has(o.database)) out.push(o);
  };
  for (const v of views) add({ kind: "view", database: String(v.db), name: String(v.name) });
  for (const r of routines) {
    const type = String(r.type).toUpperCase();
    if (type !== "PROCEDURE" && type !== "FUNCTION") continue;
    add({
      kind: type === "PROCEDURE" ? "procedure" : "function",
      database: String(r.db),
      name: String(r.name),
    });
  }
  for (const t of triggers) {
    add({ kind: "trigger", database: String(t.db), name: String(t.name), table: String(t.tbl) });
  }
  for (const e of events) add({ kind: "event", database: String(e.db), name: String(e.name) });
  return out;
}

const SHOW: Record<ObjectKind, { sql: string; column: string }> = {
  view: { sql: "VIEW", column: "Create View" },
  trigger: { sql: "TRIGGER", column: "SQL Original Statement" },
  procedure: { sql: "PROCEDURE", column: "Create Procedure" },
  function: { sql: "FUNCTION", column: "Create Function" },
  event: { sql: "EVENT", column: "Create Event" },
};

/** `view`, `procedure`... as SQL writes the kind: VIEW, PROCEDURE, ... */
export function kindWord(kind: ObjectKind): string {
  return SHOW[kind].sql;
}

/** `view `shop`.`v`` for messages. */
export function objectLabel(o: { kind: ObjectKind; database: string; name: string }): string {
  return `${o.kind} ${quoteTable(o.database, o.name)}`;
}

/**
 * Read one object's definition and creation context with `SHOW CREATE ...`.
 * A ServerError names the object when the server refuses (e.g. the definition
 * is unreadable without privileges: the statement comes back empty).
 */
export async function readObject(conn: Connection, ref: ObjectRef): Promise<ObjectRecord> {
  const show = SHOW[ref.kind];
  const rows = await queryRows<Record<string, unknown>>(
    conn,
    `SHOW CREATE ${show.sql} ${quoteTable(ref.database, ref.name)}`,
  );
  const row = rows[0];
  const statement = row?.[show.column];
  if (typeof statement !== "string" || statement === "") {
    throw new ServerError(
      `${objectLabel(ref)}: SHOW CREATE ${show.sql} returned no definition ` +
        "(the backup user needs the privileges to see it: SHOW VIEW, SELECT on mysql.proc, EVENT, TRIGGER)",
    );
  }
  const text = (
    k: string,
  ) => (row[k] === null || row[k] === undefined ? undefined : String(row[k]));
  const rec: ObjectRecord = {
    kind: ref.kind,
    database: ref.database,
    name: ref.name,
    createStatement: statement,
    characterSetClient: text("character_set_client") ?? "utf8mb4",
    collationConnection: text("collation_connection") ?? "utf8mb4_general_ci",
  };
  if (ref.table !== undefined) rec.table = ref.table;
  const sqlMode = text("sql_mode");
  if (sqlMode !== undefined) rec.sqlMode = sqlMode;
  const dbColl = text("Database Collation");
  if (dbColl !== undefined) rec.databaseCollation = dbColl;
  const tz = text("time_zone");
  if (tz !== undefined) rec.timeZone = tz;
  const definer = readDefiner(statement, rec.sqlMode);
  if (definer) rec.definer = definer;
  return rec;
}

/** Read every selected object's definition, in order. */
export async function readObjects(conn: Connection, refs: ObjectRef[]): Promise<ObjectRecord[]> {
  const out: ObjectRecord[] = [];
  for (const r of refs) out.push(await readObject(conn, r));
  return out;
}

/** The objects of these kinds that exist in `database` on the target, as `kind\0name` keys. */
export async function existingObjects(conn: Connection, database: string): Promise<Set<string>> {
  const found = await listObjects(conn, [database]);
  const keys = new Set<string>();
  for (const o of found) keys.add(objectKey(o.kind, o.name));
  // A view shares its namespace with tables.
  const tables = await queryRows<{ name: string }>(
    conn,
    "SELECT TABLE_NAME AS name FROM information_schema.TABLES WHERE TABLE_SCHEMA = ?",
    [database],
  );
  for (const t of tables) keys.add(objectKey("view", String(t.name)));
  return keys;
}

/** Key of an object in its database's namespace for {@link existingObjects}. */
export function objectKey(kind: ObjectKind, name: string): string {
  // Procedures and functions have separate namespaces; views share the tables'
  // (existingObjects lists every table as a view key for that reason).
  return `${kind}\0${name}`;
}

/** The definers among `definers` that have no account on the target server. */
export async function missingDefiners(conn: Connection, definers: Definer[]): Promise<Definer[]> {
  const seen = new Map<string, Definer>();
  for (const d of definers) seen.set(JSON.stringify([d.user, d.host]), d);
  if (seen.size === 0) return [];
  const rows = await queryRows<{ u: string; h: string }>(
    conn,
    "SELECT User AS u, Host AS h FROM mysql.user",
  );
  const have = new Set(rows.map((r) => JSON.stringify([String(r.u), String(r.h)])));
  // Roles can be definers too (MariaDB).
  try {
    const roles = await queryRows<{ u: string }>(
      conn,
      "SELECT User AS u FROM mysql.user WHERE is_role = 'Y'",
    );
    for (const r of roles) have.add(JSON.stringify([String(r.u), ""]));
  } catch {
    // MySQL: no is_role column
  }
  return [...seen.entries()].filter(([k]) => !have.has(k)).map(([, d]) => d);
}

/** What {@link createObject} needs. */
export interface CreateObjectRequest {
  conn: Connection;
  record: ObjectRecord;
  /** The database it is created in. */
  database: string;
  /** The statement to run (the recorded one, possibly rewritten). */
  statement: string;
}

const UTF8 = /^utf8(mb[34])?$/i;

/**
 * Create one object in `database` with its recorded context: sql_mode,
 * character_set_client and collation_connection (the client character set only
 * when the statement can be sent in it: ASCII text or a UTF-8 set; otherwise
 * utf8mb4, and a warning says so), an event's time zone, and for routines,
 * triggers and events the database collation they were created under (the
 * database is altered for the moment of the CREATE and back). The session is
 * put back afterwards. Returns warnings; throws ServerError naming the object.
 */
export async function createObject(req: CreateObjectRequest): Promise<string[]> {
  const { conn, record: r } = req;
  const what = objectLabel({ kind: r.kind, database: req.database, name: r.name });
  if (createdKind(req.statement, r.sqlMode) !== kindWord(r.kind)) {
    throw new CorruptionError(
      `${what}: refused the manifest's statement: it is not a CREATE ${kindWord(r.kind)} ` +
        "(a manifest is not trusted as SQL: restore only images you trust)",
    );
  }
  const warnings: string[] = [];
  const [saved] = await queryRows<{ mode: string; tz: string }>(
    conn,
    "SELECT @@SESSION.sql_mode AS mode, @@SESSION.time_zone AS tz",
  );
  let client = r.characterSetClient;
  // deno-lint-ignore no-control-regex
  if (!UTF8.test(client) && !/^[\x00-\x7f]*$/.test(req.statement)) {
    warnings.push(
      `${what}: created with character_set_client utf8mb4, not ${client}: its text holds ` +
        "characters ibvault sends in UTF-8 only",
    );
    client = "utf8mb4";
  }
  let alteredFrom: string | undefined;
  try {
    await queryRows(conn, `USE ${quoteIdentifier(req.database)}`);
    if (r.databaseCollation) {
      const [row] = await queryRows<{ c: string }>(
        conn,
        "SELECT DEFAULT_COLLATION_NAME AS c FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?",
        [req.database],
      );
      if (row && String(row.c) !== r.databaseCollation) {
        alteredFrom = String(row.c);
        await queryRows(conn, `ALTER DATABASE ${quoteIdentifier(req.database)} COLLATE ?`, [
          r.databaseCollation,
        ]);
      }
    }
    const sets: string[] = [];
    const values: unknown[] = [];
    if (r.sqlMode !== undefined) {
      sets.push("SESSION sql_mode = ?");
      values.push(r.sqlMode);
    }
    if (r.timeZone !== undefined) {
      sets.push("SESSION time_zone = ?");
      values.push(r.timeZone);
    }
    sets.push("SESSION character_set_client = ?", "SESSION collation_connection = ?");
    values.push(client, r.collationConnection);
    await queryRows(conn, `SET ${sets.join(", ")}`, values);
    try {
      await conn.query(req.statement);
    } catch (err) {
      throw new ServerError(`${what}: CREATE failed: ${driverMessage(err)}`, { cause: err });
    }
  } finally {
    await queryRows(conn, "SET NAMES utf8mb4, SESSION sql_mode = ?, SESSION time_zone = ?", [
      saved.mode,
      saved.tz,
    ]);
    if (alteredFrom) {
      await queryRows(conn, `ALTER DATABASE ${quoteIdentifier(req.database)} COLLATE ?`, [
        alteredFrom,
      ]);
    }
  }
  return warnings;
}
