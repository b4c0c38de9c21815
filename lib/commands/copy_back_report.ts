/**
 * The end of a `copy-back` run: per-table warnings and rows, the summary line,
 * the --json document, and a failure turned into the error of its kind (the
 * exit code).
 */
import type { CommandContext } from "./command.ts";
import type { OpenedSource } from "./open_source.ts";
import type { ChainSource } from "./chain_option.ts";
import type { RunReport } from "./run_report.ts";
import { serverField, tablePages } from "./report_fields.ts";
import { CorruptionError, IbvaultError, sameKind, ServerError } from "../errors.ts";
import { label } from "../core/label.ts";
import type { ServerFacts } from "../core/manifest.ts";
import type { ObjectOutcome } from "../server/wholedb_restore.ts";
import type { RestoreSummary, TableOutcome } from "../server/restore_sink.ts";

/** Report the outcome, print the summary, and turn failures into the exit code. */
export function finishCopyBack(
  ctx: CommandContext,
  rep: RunReport,
  source: OpenedSource | ChainSource,
  facts: ServerFacts,
  s: RestoreSummary,
  objects: ObjectOutcome[],
): number {
  const name = (t: TableOutcome) => label({ database: t.targetDatabase, name: t.targetTable });
  for (const t of s.tables) for (const w of t.warnings) ctx.report.warn(`${name(t)}: ${w}`);
  const restored = s.tables.filter((t) => t.status === "restored");
  const objectsFailed = objects.filter((o) => o.status !== "created");
  const ok = restored.length === s.tables.length && !s.sourceError && objectsFailed.length === 0;
  const records = new Map(source.manifest.tables.map((t) => [label(t), t]));
  const pageSize = source.manifest.server?.pageSize ?? facts.pageSize;
  const tables = s.tables.map((t) => {
    const from = records.get(label({ database: t.database, name: t.table }));
    const pages = from ? tablePages(from, (p) => source.seen.get(p)?.size, pageSize) : 0;
    return { name: name(t), size: t.bytes, pages, lockSeconds: null, ...t };
  });
  const body = {
    source: source.name,
    server: serverField(facts),
    totals: {
      tables: s.tables.length,
      restored: restored.length,
      failed: s.tables.length - restored.length,
      objects: objects.length,
      objectsFailed: objectsFailed.length,
      bytes: s.bytes,
    },
    restored: restored.length,
    failed: s.tables.length - restored.length,
    tables,
    databasesCreated: s.databasesCreated,
    objects,
    binlog: source.manifest.binlog ?? null,
    bytes: s.bytes,
  };
  if (restored.length) ctx.report.info(`restored: ${restored.map(name).join(", ")}`);
  if (ok) {
    return rep.finish("ok", body, {
      verb: "copied back",
      count: restored.length,
      noun: "table(s)",
      bytes: s.bytes,
    });
  }
  const notRestored = s.tables.filter((t) => t.status !== "restored");
  const message = `${notRestored.length} of ${s.tables.length} table(s) not restored` +
    (notRestored.length ? `: ${notRestored.map(name).join(", ")}` : "") +
    (objectsFailed.length
      ? `; ${objectsFailed.length} object(s) not created: ${
        objectsFailed.map((o) => o.label).join(", ")
      }`
      : "") +
    (s.sourceError
      ? `; the source failed: ${(s.sourceError as Error)?.message ?? s.sourceError}`
      : "");
  const corrupt = s.sourceError instanceof CorruptionError || s.corrupt.length > 0;
  const err = s.sourceError instanceof IbvaultError && !(s.sourceError instanceof CorruptionError)
    ? sameKind(s.sourceError, message)
    : corrupt
    ? new CorruptionError(message)
    : new ServerError(message);
  return rep.fail(err, body); // the document with the error, then the error
}
