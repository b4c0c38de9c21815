/**
 * The checks of `check-backup`: find the newest backup (of a root, or the one
 * directory or image given), and judge it: readable, complete against its
 * manifest (every entry's size and CRC-32C; an image's every chunk), optionally
 * every page valid, young enough, large enough, holding the expected tables.
 * Returns a plugin verdict (lib/monitor/plugin.ts); never throws for a bad
 * backup, only for bad options.
 */
import { lstat } from "node:fs/promises";
import { join } from "node:path";
import { type FoundBackup, readBackupDir, readImageFile, scanRoot } from "../catalog/scan.ts";
import { MANIFEST_FILE } from "../core/manifest.ts";
import { checkCompleteness, describeCompleteness } from "../core/completeness.ts";
import type { BackupOpener } from "../source.ts";
import { dirCompleteness } from "../backupdir/check.ts";
import { validateEntries } from "../innodb/stream.ts";
import { parseAlgorithm } from "../innodb/algorithm.ts";
import { type DeltaVerdict, validatingDeltas } from "../delta/validate_delta.ts";
import { type FileReport, RunTally } from "../innodb/report.ts";
import { backupDirFiles } from "../backupdir/tablespaces.ts";
import { validateInPlace } from "../framed/in_place.ts";
import { tableMatchForms } from "../names/filter.ts";
import { formatBytes } from "../progress/reporter.ts";
import { formatDuration } from "../retention/duration.ts";
import { type Perf, type State, statusLine, worse } from "./plugin.ts";

/** What to check. */
export interface CheckOptions {
  /** A root of backups or one backup directory. */
  backupDir?: string;
  backupImage?: string;
  /** Opens the backups to check (with the key, for encrypted images). */
  opener: BackupOpener;
  warningAgeMs: number;
  criticalAgeMs: number;
  minBytes?: number;
  /** Compiled --expect-tables expressions, with their source text. */
  expectTables: { source: string; re: RegExp }[];
  validate: boolean;
  threads: number;
  signal?: AbortSignal;
  /** The time to measure age against (default now). */
  now?: Date;
}

/** The verdict. */
export interface CheckResult {
  state: State;
  /** The first line to print. */
  line: string;
  /** Every finding, one line each (the lines after the status line). */
  findings: { state: State; message: string }[];
  backup?: {
    path: string;
    form: "directory" | "image";
    kind: "full" | "incremental";
    id?: string;
    createdAt: string;
    ageSeconds: number;
    bytes: number;
    tables: number;
    validated: boolean;
    corruptPages?: number;
  };
  /** Backups seen in the root (1 for a single backup). */
  backups: number;
  perf: Perf[];
}

const pad = (n: number) => String(n).padStart(2, "0");
/** `2026-11-30 02:00` in local time. */
function localMinute(d: Date): string {
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ` +
    `${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

async function isFile(p: string): Promise<boolean> {
  try {
    return (await lstat(p)).isFile();
  } catch {
    return false;
  }
}

/** Entry sizes and CRC-32C of a backup directory against its manifest. */
async function dirFindings(b: FoundBackup): Promise<string[]> {
  return describeCompleteness(await dirCompleteness(b.path, b.manifest!));
}

function pageFindings(files: FileReport[]): { messages: string[]; corrupt: number } {
  const messages: string[] = [];
  let corrupt = 0;
  for (const f of files) {
    const what = f.table ? `${f.name} (${f.table})` : f.name;
    if (f.status === "corrupt") {
      corrupt += f.corruptPages;
      messages.push(`${what}: ${f.atLeast ? "at least " : ""}${f.corruptPages} corrupt page(s)`);
    } else if (f.status === "error") messages.push(`${what}: cannot be validated: ${f.error}`);
  }
  return { messages, corrupt };
}

/**
 * `--validate` of an image: every page, the hot copies of minimum locking judged
 * with their deltas, without a spool (a torn hot page the delta replaces is no
 * corruption), an incremental's deltas on their own; then its completeness.
 */
async function validatedImageFindings(
  b: FoundBackup,
  o: CheckOptions,
): Promise<{ messages: string[]; corrupt?: number; rawBytes: number }> {
  const rebuilt = await o.opener.open(b.path, "image", {
    recycle: true,
    rebuilt: true,
    pairsAsStored: true,
  });
  const messages: string[] = [];
  let corrupt: number | undefined;
  try {
    const algorithm = parseAlgorithm(rebuilt.manifest.server?.checksumAlgorithm);
    const verdicts: DeltaVerdict[] = [];
    const hotCopies = rebuilt.hotCopies;
    const files = await validateEntries(
      validatingDeltas(rebuilt.entries(), algorithm, verdicts, undefined, hotCopies),
      { algorithm, signal: o.signal, hotCopies, name: rebuilt.name },
    );
    files.push(...verdicts.map((v) => v.report));
    messages.push(...verdicts.flatMap((v) => v.problems));
    const p = pageFindings(files);
    messages.push(...p.messages);
    corrupt = p.corrupt;
  } catch (e) {
    messages.push((e as Error).message);
  } finally {
    await rebuilt.close();
  }
  messages.push(...describeCompleteness(checkCompleteness(rebuilt.manifest, rebuilt.seen)));
  const rawBytes = [...rebuilt.seen.values()].reduce((s, e) => s + e.size, 0);
  return { messages, corrupt, rawBytes };
}

/** Read every chunk of an image (with `validate`, every page: see above), then its completeness. */
async function imageFindings(
  b: FoundBackup,
  o: CheckOptions,
): Promise<{ messages: string[]; corrupt?: number; rawBytes: number }> {
  if (o.validate) return await validatedImageFindings(b, o);
  const opened = await o.opener.open(b.path, "image", { mode: "check" });
  const messages: string[] = [];
  try {
    for await (const e of opened.entries()) for await (const _ of e.data) { /* checked */ }
  } catch (e) {
    messages.push((e as Error).message);
  } finally {
    await opened.close();
  }
  messages.push(...describeCompleteness(checkCompleteness(opened.manifest, opened.seen)));
  const rawBytes = [...opened.seen.values()].reduce((s, e) => s + e.size, 0);
  return { messages, rawBytes };
}

/** The newest backup of what was given, and how many backups there were. */
async function newest(o: CheckOptions): Promise<{ backup?: FoundBackup; count: number }> {
  if (o.backupImage !== undefined) {
    return { backup: await readImageFile(o.backupImage, o.opener), count: 1 };
  }
  const dir = o.backupDir!;
  if (await isFile(join(dir, MANIFEST_FILE))) {
    return { backup: await readBackupDir(dir, o.opener), count: 1 };
  }
  const scan = await scanRoot(dir, o.opener);
  return { backup: scan.backups.at(-1), count: scan.backups.length };
}

/** Run the checks. */
export async function checkBackup(o: CheckOptions): Promise<CheckResult> {
  const now = o.now ?? new Date();
  const findings: CheckResult["findings"] = [];
  const add = (state: State, message: string) => findings.push({ state, message });
  const { backup: b, count } = await newest(o);
  const where = o.backupImage ?? o.backupDir!;
  if (!b) {
    const line = statusLine("CRITICAL", `no ibvault backup in ${where}`);
    return {
      state: "CRITICAL",
      line,
      findings: [{ state: "CRITICAL", message: line }],
      backups: 0,
      perf: [],
    };
  }
  const ageMs = now.getTime() - b.createdAt.getTime();
  let bytes = b.bytes;
  let corruptPages: number | undefined;
  if (b.unreadable === "encrypted") add("UNKNOWN", b.problem!);
  else if (b.unreadable === "damaged") add("CRITICAL", b.problem!);
  else {
    // The cheap verdict (b.problem) is covered by the full checks below.
    if (b.form === "image") {
      const r = await imageFindings(b, o);
      for (const m of r.messages) add("CRITICAL", m);
      corruptPages = r.corrupt;
      if (r.rawBytes > 0) bytes = r.rawBytes;
    } else {
      for (const m of await dirFindings(b)) add("CRITICAL", m);
      if (o.validate) {
        const algorithm = parseAlgorithm(b.manifest!.server?.checksumAlgorithm);
        // an incremental's deltas: every page they carry, checked on their own
        const deltas: DeltaVerdict[] = [];
        const { files } = await validateInPlace(backupDirFiles(b.path), {
          threads: Math.max(1, o.threads),
          algorithm,
          signal: o.signal,
          keepAll: false,
          tally: new RunTally(),
          deltas,
          framed: false,
        });
        for (const m of deltas.flatMap((v) => v.problems)) add("CRITICAL", m);
        const p = pageFindings(files);
        for (const m of p.messages) add("CRITICAL", m);
        corruptPages = p.corrupt;
      }
    }
    const names = (b.manifest!.tables ?? []).map((t) => tableMatchForms(t.database, t.name));
    for (const e of o.expectTables) {
      if (!names.some((forms) => forms.some((f) => e.re.test(f)))) {
        add("CRITICAL", `no table of the newest backup matches --expect-tables=${e.source}`);
      }
    }
    if (o.minBytes !== undefined && bytes < o.minBytes) {
      add("CRITICAL", `${formatBytes(bytes)} is below --min-size (${formatBytes(o.minBytes)})`);
    }
  }
  if (ageMs > o.criticalAgeMs) {
    add("CRITICAL", `older than the critical age (${formatDuration(o.criticalAgeMs)})`);
  } else if (ageMs > o.warningAgeMs) {
    add("WARNING", `older than the warning age (${formatDuration(o.warningAgeMs)})`);
  }
  let state: State = "OK";
  for (const f of findings) state = worse(state, f.state);
  const sound = findings.every((f) => f.state === "OK" || f.state === "WARNING");
  const verdict = b.unreadable
    ? ""
    : `, ${b.tables} tables, ${formatBytes(bytes)}, ${
      sound ? (o.validate ? "validated" : "complete") : "NOT SOUND"
    }`;
  const worst = findings.filter((f) => f.state === state && state !== "OK").map((f) => f.message);
  const more = worst.length > 1 ? ` (+${worst.length - 1} more)` : "";
  const text = `newest backup ${localMinute(b.createdAt)} (${formatDuration(ageMs)} ago)` +
    (b.kind === "incremental" ? " incremental" : "") + verdict +
    (worst.length ? `: ${worst[0]}${more}` : "");
  const perf: Perf[] = [
    { label: "age", value: ageMs / 1000, uom: "s" },
    { label: "size", value: bytes, uom: "B" },
    { label: "tables", value: b.tables, uom: "" },
  ];
  if (corruptPages !== undefined) {
    perf.push({ label: "corrupt_pages", value: corruptPages, uom: "" });
  }
  return {
    state,
    line: statusLine(state, text, perf),
    findings,
    backup: {
      path: b.path,
      form: b.form,
      kind: b.kind,
      ...(b.id ? { id: b.id } : {}),
      createdAt: b.createdAt.toISOString(),
      ageSeconds: Math.round(ageMs / 1000),
      bytes,
      tables: b.tables,
      validated: o.validate && sound,
      ...(corruptPages !== undefined ? { corruptPages } : {}),
    },
    backups: count,
    perf,
  };
}
