/**
 * What a whole-database restore does with the objects around the tables, decided
 * before anything is touched (pure: the server's answers come in as data).
 *
 * - Order: databases, tables (TTS and logical), then functions and procedures
 *   (a view may call a stored function, and the server checks that when the view
 *   is created; routines themselves resolve names only when called), then views
 *   with every view after the views it reads (view on view), then triggers (after
 *   their tables), then events.
 * - Names: a database-level rename (`--rename 'shop TO shop_copy'`) moves every
 *   object of `shop` and rewrites the references in views, triggers, routines and
 *   events (and foreign keys, see {@link planForeignKeys}); a trigger follows its
 *   table's rename.
 * - Definers: kept; with `--definer=CURRENT_USER`, a definer the target lacks is
 *   replaced by CURRENT_USER (and the plan says which objects).
 * - Existing objects are never replaced: a problem, or skipped with
 *   `--skip-existing`.
 */
import { quoteIdentifier, quoteTable } from "../names/quote.ts";
import {
  type DatabaseRename,
  formatDefiner,
  readForeignKeys,
  referencedNames,
  replaceDefiner,
  requalifyObjectName,
  retargetForeignKeys,
  retargetTriggerTable,
  rewriteDatabaseRefs,
} from "../names/sql_rewrite.ts";
import { objectKey, type ObjectKind, objectLabel, type ObjectRecord } from "./objects.ts";

/** A database and table name. */
export interface Name {
  database: string;
  name: string;
}

/** How names move in this restore. */
export interface NameMap {
  /** Database-level renames: source database to target database. */
  databases: ReadonlyMap<string, string>;
  /** Tables restored in this run: source `[db, table]` key to target name. */
  tables: ReadonlyMap<string, Name>;
  /** Compare names ignoring letter case (lower_case_table_names 1 or 2). */
  foldCase?: boolean;
}

/** Key of a table for {@link NameMap.tables}. */
export function tableKey(database: string, name: string, foldCase = false): string {
  return JSON.stringify(foldCase ? [database.toLowerCase(), name.toLowerCase()] : [database, name]);
}

/** Where a source database's objects go. */
export function targetDatabase(names: NameMap, database: string): string {
  return names.databases.get(database) ?? database;
}

/** An object as it will be created. */
export interface PlannedObject {
  record: ObjectRecord;
  database: string;
  /** The statement to run: rewritten for renames and definers. */
  statement: string;
  /** What changed, for the report. */
  notes: string[];
}

/** Inputs of {@link planObjects}. */
export interface ObjectPlanInputs {
  /** The backup's objects of the selected databases (and triggers of selected tables). */
  objects: ObjectRecord[];
  names: NameMap;
  /** Every table and object name of each source database in the backup (for the rewrite). */
  sourceNames: ReadonlyMap<string, ReadonlySet<string>>;
  /** Objects that exist on the target, per target database, as objectKey() keys. */
  existing: ReadonlyMap<string, ReadonlySet<string>>;
  /** Definers (`JSON [user, host]`) that have no account on the target. */
  missingDefiners: ReadonlySet<string>;
  /** `--definer=CURRENT_USER`. */
  definerCurrentUser: boolean;
  /** `--skip-existing`: leave existing objects alone instead of stopping. */
  skipExisting: boolean;
}

/** The plan for the objects. */
export interface ObjectPlan {
  /** In creation order. */
  objects: PlannedObject[];
  /** Objects not created, with the reason (existing ones under --skip-existing). */
  skipped: { label: string; reason: string }[];
  problems: string[];
  warnings: string[];
}

const KIND_ORDER: Record<ObjectKind, number> = {
  function: 0,
  procedure: 1,
  view: 2,
  trigger: 3,
  event: 4,
};

/**
 * Put views after the views they read (by the names their statements mention,
 * matched against the views being restored); other objects by kind. Stable: ties
 * keep the backup's order, and a cycle (only possible through over-matched
 * names) falls back to that order.
 */
export function orderObjects(objects: ObjectRecord[]): ObjectRecord[] {
  const byKind = [...objects].map((o, i) => ({ o, i })).sort((a, b) =>
    KIND_ORDER[a.o.kind] - KIND_ORDER[b.o.kind] || a.i - b.i
  ).map((x) => x.o);
  const views = byKind.filter((o) => o.kind === "view");
  const viewKey = (db: string, name: string) => JSON.stringify([db, name]);
  const index = new Map(views.map((v) => [viewKey(v.database, v.name), v]));
  const deps = new Map<ObjectRecord, ObjectRecord[]>();
  for (const v of views) {
    const d = new Set<ObjectRecord>();
    for (const ref of referencedNames(v.createStatement)) {
      const other = index.get(viewKey(ref.database ?? v.database, ref.name));
      if (other && other !== v) d.add(other);
    }
    deps.set(v, [...d]);
  }
  const done = new Set<ObjectRecord>();
  const visiting = new Set<ObjectRecord>();
  const ordered: ObjectRecord[] = [];
  const visit = (v: ObjectRecord) => {
    if (done.has(v) || visiting.has(v)) return; // a cycle: keep the backup's order
    visiting.add(v);
    for (const d of deps.get(v) ?? []) visit(d);
    visiting.delete(v);
    done.add(v);
    ordered.push(v);
  };
  for (const v of views) visit(v);
  let vi = 0;
  return byKind.map((o) => o.kind === "view" ? ordered[vi++] : o);
}

function databaseRenames(inputs: ObjectPlanInputs): DatabaseRename[] {
  return [...inputs.names.databases].map(([from, to]) => ({
    from,
    to,
    objects: inputs.sourceNames.get(from) ?? new Set(),
    foldCase: inputs.names.foldCase,
  }));
}

/** Build the object plan (see the module documentation). */
export function planObjects(inputs: ObjectPlanInputs): ObjectPlan {
  const { names } = inputs;
  const renames = databaseRenames(inputs);
  const plan: ObjectPlan = { objects: [], skipped: [], problems: [], warnings: [] };
  const replacedDefiners: string[] = [];
  const missingKept = new Map<string, string[]>();
  for (const r of orderObjects(inputs.objects)) {
    const notes: string[] = [];
    let database = targetDatabase(names, r.database);
    let statement = r.createStatement;
    if (renames.length) {
      const res = rewriteDatabaseRefs(statement, renames, r.sqlMode);
      statement = res.sql;
      if (res.rewritten) notes.push(`${res.rewritten} reference(s) to renamed databases rewritten`);
      if (res.inStrings) {
        plan.warnings.push(
          `${
            objectLabel({ ...r, database })
          }: a renamed database's name appears inside a string literal ` +
            "(dynamic SQL?); ibvault rewrites names, not strings: check it",
        );
      }
    }
    if (r.kind === "trigger" && r.table !== undefined) {
      const moved = names.tables.get(tableKey(r.database, r.table, names.foldCase));
      if (moved && (moved.database !== r.database || moved.name !== r.table)) {
        database = moved.database;
        statement = retargetTriggerTable(statement, moved.database, moved.name, r.sqlMode);
        statement = requalifyObjectName(statement, moved.database, r.sqlMode);
        notes.push(`follows its table to ${quoteTable(moved.database, moved.name)}`);
      }
    }
    const label = objectLabel({ kind: r.kind, database, name: r.name });
    if (r.definer) {
      const k = JSON.stringify([r.definer.user, r.definer.host]);
      if (inputs.missingDefiners.has(k)) {
        if (inputs.definerCurrentUser) {
          statement = replaceDefiner(statement, r.sqlMode);
          notes.push(`DEFINER ${formatDefiner(r.definer)} replaced by CURRENT_USER`);
          replacedDefiners.push(`${label} (was ${formatDefiner(r.definer)})`);
        } else {
          const list = missingKept.get(formatDefiner(r.definer)) ?? [];
          list.push(label);
          missingKept.set(formatDefiner(r.definer), list);
        }
      }
    }
    const exists = inputs.existing.get(database)?.has(objectKey(r.kind, r.name)) ?? false;
    if (exists) {
      if (inputs.skipExisting) {
        plan.skipped.push({ label, reason: "already exists on the server (--skip-existing)" });
      } else {
        plan.problems.push(
          `${label} already exists on the server; copy-back never replaces objects ` +
            "(drop it, restore under another database with --rename, or --skip-existing)",
        );
      }
      continue;
    }
    plan.objects.push({ record: r, database, statement, notes });
  }
  for (const [definer, labels] of missingKept) {
    plan.warnings.push(
      `definer ${definer} does not exist on the server: ${labels.join(", ")} created with it ` +
        "anyway (they fail when used until the account exists; --definer=CURRENT_USER replaces it)",
    );
  }
  if (replacedDefiners.length) {
    plan.warnings.push(`created with DEFINER=CURRENT_USER: ${replacedDefiners.join(", ")}`);
  }
  return plan;
}

/** A table of the restore, for the foreign key checks. */
export interface FkTable {
  source: Name;
  target: Name;
  createStatement: string;
}

/** Inputs of {@link planForeignKeys}. */
export interface FkInputs {
  /** Tables restored in this run. */
  restored: FkTable[];
  /** Every table of the backup (source names and statements). */
  backup: { database: string; name: string; createStatement: string }[];
  names: NameMap;
  /** Whether a table exists on the target server now. */
  existsOnTarget: (t: Name) => boolean;
}

/** The outcome: each restored table's statement with its keys retargeted, and findings. */
export interface FkPlan {
  /** Target key (tableKey of the target) to the CREATE TABLE statement to use. */
  statements: Map<string, string>;
  /** Keys that would reference a table that does not exist on the target. */
  dangling: string[];
  /** Parents restored without children that reference them in the backup. */
  orphanedParents: string[];
}

/**
 * Foreign keys of the restored tables: each reference goes to the referenced
 * table's new name when it is restored in this run, to the renamed database
 * when its database is renamed, and otherwise stays on the original table
 * (written `db`.`tbl` when the child moves to another database, so it keeps
 * meaning what it meant). A reference to a table neither restored nor on the
 * target is dangling; a restored parent whose children in the backup are not
 * restored is reported too. Nothing is touched: the caller decides.
 */
export function planForeignKeys(inputs: FkInputs): FkPlan {
  const { names } = inputs;
  const fold = names.foldCase ?? false;
  const out: FkPlan = { statements: new Map(), dangling: [], orphanedParents: [] };
  const restoredSources = new Set(
    inputs.restored.map((t) => tableKey(t.source.database, t.source.name, fold)),
  );
  for (const t of inputs.restored) {
    const resolve = (ref: { database: string; table: string }): Name => {
      const moved = names.tables.get(tableKey(ref.database, ref.table, fold));
      if (moved) return moved;
      return { database: targetDatabase(names, ref.database), name: ref.table };
    };
    for (const fk of readForeignKeys(t.createStatement)) {
      const ref = { database: fk.refDatabase ?? t.source.database, table: fk.refTable };
      const to = resolve(ref);
      const restored = restoredSources.has(tableKey(ref.database, ref.table, fold));
      if (!restored && !inputs.existsOnTarget(to)) {
        out.dangling.push(
          `${quoteTable(t.target.database, t.target.name)}: foreign key ` +
            `${fk.name ? quoteIdentifier(fk.name) : "(unnamed)"} references ` +
            `${quoteTable(to.database, to.name)}, which is neither restored nor on the server`,
        );
      }
    }
    const statement = retargetForeignKeys(
      t.createStatement,
      t.source.database,
      t.target.database,
      (ref) => {
        const to = resolve(ref);
        return { database: to.database, table: to.name };
      },
    );
    out.statements.set(tableKey(t.target.database, t.target.name, fold), statement);
  }
  for (const child of inputs.backup) {
    if (restoredSources.has(tableKey(child.database, child.name, fold))) continue;
    for (const fk of readForeignKeys(child.createStatement)) {
      const ref = { database: fk.refDatabase ?? child.database, table: fk.refTable };
      if (!restoredSources.has(tableKey(ref.database, ref.table, fold))) continue;
      out.orphanedParents.push(
        `${quoteTable(ref.database, ref.table)} is restored without ` +
          `${quoteTable(child.database, child.name)}, whose foreign key ` +
          `${fk.name ? quoteIdentifier(fk.name) : "(unnamed)"} references it`,
      );
    }
  }
  return out;
}
