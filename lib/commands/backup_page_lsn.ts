/**
 * The command side of page-LSN backups (issue 12): the `--use-tts` mode, the
 * incremental base named by `--incremental-base=dir:PATH|image:FILE`, opening
 * the page-LSN source with the command's page checks, progress and lock log, the
 * chain fields of a full-locking backup, and what the summary reports (lock time,
 * delta size, pages replaced per table).
 */
import { EXPORT_LOCK } from "../server/lock_session.ts";
import { tmpdir } from "node:os";
import type { CommandContext } from "./command.ts";
import type { Options } from "./options.ts";
import type { Connection } from "mysql2/promise";
import type { ServerFacts } from "../core/manifest.ts";
import type { TableSelection } from "../server/tables.ts";
import { keyForReading } from "./image_options.ts";
import { openImageAt } from "./open_source.ts";
import { UsageError } from "../errors.ts";
import type { Manifest } from "../core/manifest.ts";
import { readManifest } from "../core/manifest_io.ts";
import { tableLabel } from "../core/label.ts";
import { noteLockTime } from "./report_fields.ts";
import { BACKUP_END_FILE, type BackupEnd, finalManifest, parseBackupEnd } from "../core/chain.ts";
import { formatBytes } from "../progress/reporter.ts";
import { parseAlgorithm } from "../innodb/algorithm.ts";
import {
  type AtLockParts,
  type IncrementalBase,
  openPageLsnSource,
  type PageLsnSource,
} from "../server/page_lsn_source.ts";
import { readServerIdentity } from "../server/identity.ts";
import { readServerLsns } from "../server/lsn.ts";
import type { TtsExport } from "../server/export.ts";

/** A connected, selected backup (backup_common.ts's BackupPlan). */
interface BackupPlan {
  conn: Connection;
  facts: ServerFacts;
  selection: TableSelection;
  lockSeconds: Map<string, number>;
}

/** The two `--use-tts` modes. */
export type TtsMode = "with-minimum-locking" | "with-full-locking";

/**
 * The TTS mode of the options: `--use-tts` (default with-minimum-locking).
 * `--lock-per-table` alone means full locking, one table at a time (it has no
 * meaning for the short lock of minimum locking); an incremental always copies hot.
 */
export function ttsMode(o: Options): TtsMode {
  const v = (o.useTts ?? "").toLowerCase();
  if (v !== "" && v !== "with-minimum-locking" && v !== "with-full-locking") {
    throw new UsageError(
      `--use-tts=${o.useTts}: use with-minimum-locking (the default) or with-full-locking`,
    );
  }
  if (o.incremental && !o.incrementalBase) {
    throw new UsageError("--incremental needs --incremental-base=dir:PATH or image:FILE");
  }
  if (!o.incremental && o.incrementalBase) {
    throw new UsageError("--incremental-base is for --incremental backups");
  }
  if (o.incremental && (v === "with-full-locking" || o.lockPerTable)) {
    throw new UsageError(
      "--incremental copies the changed pages hot and locks only briefly: it cannot be " +
        "combined with --use-tts=with-full-locking or --lock-per-table",
    );
  }
  if (o.lockPerTable) {
    if (v === "with-minimum-locking") {
      throw new UsageError("--lock-per-table works with --use-tts=with-full-locking only");
    }
    return "with-full-locking";
  }
  return v === "with-full-locking" ? "with-full-locking" : "with-minimum-locking";
}

/**
 * The base of `--incremental-base`: a backup directory's manifest, or an image's
 * (read to its end, where `ibvault_backup_end.json` carries its end LSN and
 * tablespaces). Read before the server is touched.
 */
export async function readIncrementalBase(ctx: CommandContext): Promise<IncrementalBase> {
  const spec = ctx.options.incrementalBase ?? "";
  const m = /^(dir|image):(.+)$/.exec(spec);
  if (!m) {
    throw new UsageError(`--incremental-base=${spec}: use dir:PATH or image:FILE`);
  }
  const [, kind, path] = m;
  const where = `--incremental-base=${spec}`;
  if (kind === "dir") {
    const manifest = await readManifest(path);
    if (!manifest) {
      throw new UsageError(`${where}: ${path} is not a complete backup directory (no manifest)`);
    }
    return { manifest, where };
  }
  const key = await keyForReading(ctx.options, ctx.report);
  // only the end entry is decoded; the rest is read and verified, not decompressed
  const img = await openImageAt(ctx, path, key, {
    mode: "check",
    decodeWhole: (p) => p === BACKUP_END_FILE,
  });
  try {
    let end: BackupEnd | undefined;
    for await (const e of img.entries((p) => p === BACKUP_END_FILE)) {
      const parts: Uint8Array[] = [];
      for await (const c of e.data) parts.push(c.slice());
      end = parseBackupEnd(parts, path);
    }
    return { manifest: end ? finalManifest(img.manifest, end) : img.manifest, where };
  } finally {
    await img.close();
  }
}

/** Open the page-LSN backup of a plan with the command's options. */
export async function openPageLsnBackup(
  ctx: CommandContext,
  plan: BackupPlan,
  opts: {
    image: boolean;
    spoolDir?: string;
    base?: IncrementalBase;
    recordedOptions: Record<string, unknown>;
    onProgress: (bytes: number, path: string) => void;
    /** The whole-database parts read under the same lock. */
    atLock?: AtLockParts;
  },
): Promise<PageLsnSource> {
  const o = ctx.options;
  return await openPageLsnSource({
    conn: plan.conn,
    facts: plan.facts,
    tables: plan.selection.tables,
    lockWaitTimeout: o.lockWaitTimeout,
    spoolDir: opts.spoolDir ?? o.backupDir ?? tmpdir(),
    base: opts.base,
    endEntry: opts.image,
    recordedOptions: { ...opts.recordedOptions, useTts: "with-minimum-locking" },
    algorithm: o.skipPageCheck ? undefined : parseAlgorithm(plan.facts.checksumAlgorithm),
    signal: ctx.signal,
    onProgress: opts.onProgress,
    atLock: opts.atLock,
    onLock: (event, tables, ms) => {
      const what = tables.length === 1
        ? tableLabel(tables[0].database, tables[0].name)
        : `${tables.length} tables`;
      if (event === "locked") {
        ctx.report.info(`hot copy done; locked ${what} (${EXPORT_LOCK})`);
      } else {
        ctx.report.info(`unlocked ${what} after ${(ms / 1000).toFixed(3)} s`);
        noteLockTime(plan.lockSeconds, tables, ms);
      }
    },
  });
}

/**
 * A full-locking export records the chain fields too (id, kind, and, when all
 * tables are locked together, the end LSN and the server identity, read now,
 * under the lock), so it can be the base of an incremental.
 */
export async function recordFullLockingChain(
  source: TtsExport,
  plan: BackupPlan,
  lockPerTable: boolean,
): Promise<void> {
  const fields: Record<string, unknown> = { id: crypto.randomUUID(), kind: "full" };
  if (!lockPerTable) {
    fields.endLsn = (await readServerLsns(plan.conn, plan.facts.flavor)).current.toString();
    fields.identity = await readServerIdentity(plan.conn, plan.facts);
  }
  fields.options = { ...source.manifest.options, useTts: "with-full-locking" };
  Object.assign(source.manifest as Manifest, fields);
}

/** What a page-LSN backup adds to the summary: the document's fields and the line's words. */
export function pageLsnSummary(source: PageLsnSource): {
  fields: Record<string, unknown>;
  extra: string;
} {
  const r = source.result();
  const m = source.manifest as Manifest & { id?: string; kind?: string; base?: unknown };
  const tables = r.tablespaces.map((s) => ({
    table: s.table,
    file: s.file,
    copy: s.copy,
    ...(s.reason ? { reason: s.reason } : {}),
    deltaPages: s.deltaPages ?? 0,
    pagesReplaced: s.replacedPages ?? 0,
    pagesUnchanged: s.unchangedPages ?? 0,
    pageSize: s.pageSize,
    size: s.size,
  }));
  const replaced = tables.reduce((n, t) => n + t.pagesReplaced, 0);
  const deltaPages = tables.reduce((n, t) => n + t.deltaPages, 0);
  const incremental = m.kind === "incremental";
  return {
    fields: {
      mode: "with-minimum-locking",
      id: m.id,
      kind: m.kind,
      ...(m.base ? { base: m.base } : {}),
      startLsn: r.startLsn.toString(),
      endLsn: r.endLsn.toString(),
      deltaBytes: r.deltaBytes,
      deltaPages,
      pagesReplaced: replaced,
      tablespaces: tables,
      ...((m as { gone?: unknown }).gone ? { gone: (m as { gone?: unknown }).gone } : {}),
    },
    extra: `minimum locking: delta ${formatBytes(r.deltaBytes)} (${deltaPages} pages` +
      (incremental ? "" : `, ${replaced} hot pages replaced`) + `)` +
      (incremental
        ? `, ${tables.filter((t) => t.copy === "whole").length} tablespace(s) copied whole`
        : ""),
  };
}
