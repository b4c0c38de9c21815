/**
 * The fields every `--json` document shares beyond the run's own (see
 * `run_report.ts` and the README's "JSON report"): the server, one row per table
 * with its size, pages, lock time and status, and the page count of a table.
 */
import type { Manifest, ServerFacts, TableRecord } from "../core/manifest.ts";
import { label } from "../core/label.ts";
import { deltaTarget } from "../core/chain.ts";

/** The `server` field: who was talked to (or who took the backup), or null. */
export interface ServerField {
  flavor: string;
  version: string;
  [fact: string]: unknown;
}

/** `server` for `facts`, or for a manifest's recorded server (undefined: null). */
export function serverField(
  facts: ServerFacts | Manifest["server"] | undefined,
): ServerField | null {
  return facts ? { ...facts, flavor: facts.flavor, version: facts.version } : null;
}

/** One row of the `tables` list. */
export interface TableRow {
  /** `db`.`table`, Unicode. */
  name: string;
  /** Bytes of its files (.ibd and .cfg, or its logical DB/TABLE.sql) as read. */
  size: number;
  /** Pages of its tablespace(s) in their physical page size (0 for a logical table). */
  pages: number;
  /** Seconds its tables were locked for export; null when not locked. */
  lockSeconds: number | null;
  /** backup: ok, skipped; list-image: listed; copy-back: restored, failed, not-attempted... */
  status: string;
  [field: string]: unknown;
}

/**
 * A table's physical page size: KEY_BLOCK_SIZE for ROW_FORMAT=COMPRESSED (8 KiB
 * when not given), else the server's page size.
 */
export function physicalPageSize(t: Pick<TableRecord, "createStatement">, pageSize: number) {
  const s = t.createStatement ?? "";
  if (!/ROW_FORMAT\s*=\s*COMPRESSED/i.test(s)) return pageSize;
  const kbs = /KEY_BLOCK_SIZE\s*=\s*(\d+)/i.exec(s);
  return (kbs ? Number(kbs[1]) : 8) * 1024;
}

/** Pages of a table's `.ibd` files, their sizes from `sizes` (path → bytes). */
export function tablePages(
  t: Pick<TableRecord, "createStatement" | "files">,
  sizes: (path: string) => number | undefined,
  pageSize: number,
): number {
  const page = physicalPageSize(t, pageSize);
  return t.files.filter((f) => f.endsWith(".ibd"))
    .reduce((n, f) => n + Math.floor((sizes(f) ?? 0) / page), 0);
}

/** Rows for `tables`, their file sizes from `sizes`, with this status and lock time. */
export function tableRows(
  tables: readonly TableRecord[],
  sizes: (path: string) => number | undefined,
  pageSize: number,
  status: string,
  lockSeconds: (name: string) => number | null = () => null,
): TableRow[] {
  return tables.map((t) => {
    const name = label(t);
    // A page delta (minimum locking) is part of its file's copy, not a file of its own.
    const files = t.files.filter((f) => deltaTarget(f) === undefined);
    return {
      name,
      size: files.reduce((n, f) => n + (sizes(f) ?? 0), 0),
      pages: tablePages(t, sizes, pageSize),
      lockSeconds: lockSeconds(name),
      status,
      method: t.method ?? "tts",
    };
  });
}

/** Add the time `tables` were locked to `into` (by label; a table locked twice adds up). */
export function noteLockTime(
  into: Map<string, number>,
  tables: readonly { database: string; name: string }[],
  ms: number,
): void {
  for (const t of tables) {
    const name = label(t);
    into.set(name, (into.get(name) ?? 0) + ms / 1000);
  }
}
