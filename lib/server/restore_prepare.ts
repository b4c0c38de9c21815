/**
 * The server side of a restore around the restore sink: before it, the table
 * plan and the whole-database plan read from the target server (what exists,
 * what the backup's objects need), with what the user should know said; after
 * it, the planned objects created (their databases made when missing). Planning
 * itself stays pure (restore_plan.ts, wholedb_restore.ts); this module reads the
 * server and reports.
 */
import type { Connection } from "mysql2/promise";
import type { Manifest, ServerFacts } from "../core/manifest.ts";
import type { Reporter } from "../progress/reporter.ts";
import { decodeFilename } from "../names/filename.ts";
import { ensureDatabase } from "./import.ts";
import { partitionLabel } from "./partitions.ts";
import {
  planRestore,
  readTargetState,
  type RestorePlan,
  type SelectedRestore,
} from "./restore_plan.ts";
import {
  type ObjectOutcome,
  planWholeRestore,
  restoreObjects,
  type WholeRestorePlan,
} from "./wholedb_restore.ts";

/** What a restore is asked to do. */
export interface RestoreRequest {
  facts: ServerFacts;
  manifest: Manifest;
  selected: SelectedRestore[];
  /** Database-level renames, source to target. */
  databaseRenames: ReadonlyMap<string, string>;
  force: boolean;
  skipExisting: boolean;
  /** `--definer=CURRENT_USER`. */
  definerCurrentUser: boolean;
  /** `--include-partitions`: which partitions to restore (rows only, no objects). */
  partitions?: (label: string) => boolean;
  report: Reporter;
}

/** The plans of a restore, decided before anything is touched. */
export interface PreparedRestore {
  plan: RestorePlan;
  whole: WholeRestorePlan;
}

/** Read the target's state and plan the restore; warnings, notes and what is left alone are said. */
export async function prepareRestore(
  conn: Connection,
  r: RestoreRequest,
): Promise<PreparedRestore> {
  const { facts, manifest, selected, partitions, report } = r;
  const state = await readTargetState(conn, facts, selected);
  const whole = await planWholeRestore({
    conn,
    facts,
    manifest,
    selected,
    databaseRenames: r.databaseRenames,
    force: r.force,
    skipExisting: r.skipExisting,
    definerCurrentUser: r.definerCurrentUser,
    noObjects: partitions !== undefined,
  });
  if (partitions && manifest.objects?.length) {
    report.info(
      "--include-partitions restores rows only: views, routines, triggers and events are " +
        "left as they are",
    );
  }
  const plan = planRestore({
    manifest,
    selected,
    facts,
    state,
    force: r.force,
    skipExisting: r.skipExisting,
    partitions,
    partitionOf: (entry) => partitionLabel(entry, decodeFilename),
    statements: whole.statements,
    problems: whole.problems,
  });
  for (const w of [...plan.warnings, ...whole.warnings]) report.warn(w);
  for (const n of whole.notes) report.info(n);
  for (const s of [...plan.skipped, ...whole.objects.skipped]) {
    report.info(`left alone: ${"table" in s ? s.table : s.label}: ${s.reason}`);
  }
  return { plan, whole };
}

/** Create the planned objects once the tables are in (databases created when missing). */
export async function createPlannedObjects(
  conn: Connection,
  prepared: PreparedRestore,
  manifest: Manifest,
  report: Reporter,
  signal?: AbortSignal,
): Promise<ObjectOutcome[]> {
  const { whole, plan } = prepared;
  for (const db of new Set(whole.objects.objects.map((o) => o.database))) {
    const from = whole.objects.objects.find((o) => o.database === db)!.record.database;
    const planned = plan.databases.find((d) => d.name === db);
    await ensureDatabase(
      conn,
      db,
      planned?.source ?? manifest.databases.find((d) => d.name === from),
    );
  }
  const { outcomes, warnings } = await restoreObjects(conn, whole.objects, signal);
  for (const w of warnings) report.warn(w);
  for (const o of outcomes) {
    if (o.status === "created") {
      report.info(`created ${o.label}${o.notes.length ? ` (${o.notes.join("; ")})` : ""}`);
    } else report.error(`not created: ${o.label}: ${o.error}`);
  }
  return outcomes;
}
