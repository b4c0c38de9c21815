/**
 * Validating an incremental backup on its own (without its base): what can be
 * checked is checked (each `F.delta`'s structure, every page it carries judged
 * as the server would, its header against the manifest's tablespace record, and
 * the chain fields: an id, the base it continues, an end LSN not before the
 * base's); what cannot (the rebuilt tablespaces, which need the base) is said.
 */
import type { FileEntry } from "../entry.ts";
import type { Manifest } from "../core/manifest.ts";
import type { ChainFields, TablespaceRecord } from "../core/chain.ts";
import { deltaTarget } from "../core/chain.ts";
import { CorruptionError } from "../errors.ts";
import type { ChecksumAlgorithm } from "../innodb/algorithm.ts";
import { decodeFlags, describeSpace, type SpaceInfo, spaceInfoFromPage0 } from "../innodb/flags.ts";
import { type DeltaHeader, readDelta } from "../innodb/delta_format.ts";
import { PageJudge } from "../innodb/page_judge.ts";
import type { CorruptPage } from "../innodb/page_range.ts";
import { tableNameOf } from "../innodb/discover.ts";
import { type FileReport, validReport } from "../innodb/report.ts";

/** One delta's verdict, and what is wrong with it beyond corrupt pages. */
export interface DeltaVerdict {
  report: FileReport;
  /** Structure problems, each naming the delta (exit 1). */
  problems: string[];
  /** What its header says (absent when it could not be read). */
  header?: DeltaHeader;
}

/** The tablespace record of `file` in a manifest (the base the delta applies to is described there). */
function recordOf(m: Manifest, file: string): TablespaceRecord | undefined {
  for (const t of m.tables ?? []) {
    const s = ((t as { tablespaces?: TablespaceRecord[] }).tablespaces ?? [])
      .find((r) => r.file === file);
    if (s) return s;
  }
  return undefined;
}

/** Validate delta entry `entry` (read to its end) with `algorithm`: structure and pages. */
export async function validateDelta(
  entry: Pick<FileEntry, "path" | "size" | "data">,
  algorithm: ChecksumAlgorithm,
  threshold = 64,
): Promise<DeltaVerdict> {
  const target = deltaTarget(entry.path) ?? entry.path;
  const subject = { path: entry.path, name: entry.path, table: tableNameOf(target) };
  const problems: string[] = [];
  const judge = new PageJudge(algorithm);
  const corrupt: CorruptPage[] = [];
  let pages = 0;
  let report: FileReport | undefined;
  let head: DeltaHeader | undefined;
  try {
    const { header, runs } = await readDelta(entry.data, entry.path);
    let space: SpaceInfo = decodeFlags(header.fspFlags, header.spaceId);
    report = validReport(subject, entry.size, `delta of ${describeSpace(space)}`, space);
    head = header;
    for await (const run of runs) {
      // page 0 (always carried) says more than the header: the encryption record
      if (run.first === 0) space = page0Space(run.bytes.subarray(0, header.pageSize)) ?? space;
      pages += run.count;
      if (corrupt.length < threshold) corrupt.push(...judge.judge(space, run.first, run.bytes));
    }
  } catch (err) {
    if (!(err instanceof CorruptionError)) throw err;
    problems.push(err.message);
    for await (const _ of entry.data) { /* drained */ }
  }
  report ??= { ...validReport(subject, entry.size, "delta", decodeFlags(0, 0)), format: "delta" };
  report.pages = pages;
  report.corrupt = corrupt.slice(0, threshold);
  report.corruptPages = report.corrupt.length;
  report.atLeast = corrupt.length >= threshold;
  if (corrupt.length > 0 || problems.length > 0) report.status = "corrupt";
  return { report, problems, header: head };
}

function page0Space(page0: Uint8Array): SpaceInfo | undefined {
  try {
    return spaceInfoFromPage0(page0);
  } catch {
    return undefined;
  }
}

/** A delta's header against manifest `m`: its tablespace record, and the base's end LSN. */
function headerProblems(m: Manifest, path: string, h: DeltaHeader): string[] {
  const out: string[] = [];
  const rec = recordOf(m, deltaTarget(path) ?? path);
  if (rec && (rec.spaceId !== h.spaceId || rec.flags !== h.fspFlags)) {
    out.push(
      `${path}: its header says space id ${h.spaceId}, flags ${h.fspFlags}; ` +
        `the manifest says space id ${rec.spaceId}, flags ${rec.flags}`,
    );
  }
  const base = m.base;
  if (!h.complete && base && /^\d+$/.test(base.endLsn) && h.sinceLsn > BigInt(base.endLsn)) {
    out.push(
      `${path}: carries the pages changed since LSN ${h.sinceLsn}, after its base's ` +
        `end LSN ${base.endLsn}: changes in between would be missing`,
    );
  }
  return out;
}

/**
 * What an incremental backup's manifest says of its place in a chain: problems
 * (no id, no base, no end LSN, an end LSN before the base's, no server identity)
 * and the note that says what validation on its own could not do.
 */
export function incrementalVerdict(
  m: Manifest,
  where: string,
  deltas: DeltaVerdict[],
): { problems: string[]; note?: string } {
  const c: ChainFields = m;
  const problems = deltas.flatMap((d) => [
    ...d.problems,
    ...(d.header ? headerProblems(m, d.report.name, d.header) : []),
  ]);
  if (c.kind !== "incremental") {
    if (deltas.length > 0) {
      problems.push(
        `${where}: ${deltas[0].report.name} is a delta, but this is not an incremental`,
      );
    }
    return { problems };
  }
  const lsn = (s?: string) => typeof s === "string" && /^\d+$/.test(s);
  if (!c.id) problems.push(`${where}: the incremental has no backup id`);
  if (!c.base?.id || !lsn(c.base.endLsn)) {
    problems.push(`${where}: the incremental does not say which backup it continues`);
  }
  if (!lsn(c.endLsn)) problems.push(`${where}: the incremental has no end LSN`);
  else if (lsn(c.base?.endLsn) && BigInt(c.endLsn!) < BigInt(c.base!.endLsn)) {
    problems.push(
      `${where}: the incremental ends at LSN ${c.endLsn}, before its base's end LSN ${
        c.base!.endLsn
      }`,
    );
  }
  if (!c.identity) problems.push(`${where}: the incremental does not record its server`);
  const note = `${where} is an incremental backup (continues ${c.base?.id ?? "?"}, end LSN ` +
    `${
      c.base?.endLsn ?? "?"
    }): its ${deltas.length} delta file(s) were checked page by page, but the ` +
    "tablespaces they change are in the base: rebuilding and validating them needs the chain " +
    "(copy-back --backup-dir=FULL --incremental-backup-dir=..., or apply-incremental-backup)";
  return { problems, note };
}

/**
 * Pass `entries` through, validating each delta entry instead of yielding it
 * with {@link validateDelta} (an incremental's: a rebuilding source has joined
 * the deltas whose file is in the same backup); verdicts go into `out`. The
 * deltas of `hotCopies` (left as stored for the validator to join) pass through.
 */
export async function* validatingDeltas(
  entries: AsyncIterable<FileEntry>,
  algorithm: ChecksumAlgorithm,
  out: DeltaVerdict[],
  threshold?: number,
  hotCopies?: ReadonlySet<string>,
): AsyncGenerator<FileEntry> {
  for await (const e of entries) {
    const target = deltaTarget(e.path);
    if (target === undefined || hotCopies?.has(target)) {
      yield e;
      continue;
    }
    out.push(await validateDelta(e, algorithm, threshold));
  }
}
