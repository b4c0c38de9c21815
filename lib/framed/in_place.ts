/**
 * Validation of tablespace files where they lie, as a sink: the file engine
 * judges every tablespace of a {@link TablespaceFiles} (several at once, MySQL
 * keys found as it goes); tablespaces kept in LZ4/zstd frames (`extract
 * --keep-compressed`) are decoded while validated; an incremental's deltas
 * (`*.ibd.delta`) are checked on their own when asked; other files are counted,
 * not validated. Reports of valid files are kept only when asked (`keepAll`), so
 * memory stays flat over any number of files.
 */
import { statSync } from "node:fs";
import type { ChecksumAlgorithm } from "../innodb/algorithm.ts";
import { type EngineOptions, validateEach } from "../innodb/validator.ts";
import { type FileReport, notValidatedReport, type RunTally } from "../innodb/report.ts";
import { readFileChunks } from "../core/files.ts";
import type { TablespaceFiles } from "../backupdir/tablespaces.ts";
import { type DeltaVerdict, validateDelta } from "../delta/validate_delta.ts";
import { framedInnodb } from "./files.ts";
import { validateFramed } from "./validate.ts";

/** Settings of the in-place validation (the engine's, and what to keep). */
export interface InPlaceOptions extends EngineOptions {
  algorithm: ChecksumAlgorithm;
  /** Keep the report of every file (--json, --verbose), not only those worth showing. */
  keepAll: boolean;
  /** Counts every report, kept or not. */
  tally: RunTally;
  /** Check an incremental's deltas on their own, their verdicts added here. */
  deltas?: DeltaVerdict[];
  /** Decode and validate framed tablespaces (default true; false: other files). */
  framed?: boolean;
}

/** The reports kept (tablespaces, framed ones, deltas, other files) and frame damage found. */
export interface InPlaceSummary {
  files: FileReport[];
  problems: string[];
}

/** Validate the tablespaces of `source` in place (see the module documentation). */
export async function validateInPlace(
  source: TablespaceFiles,
  opts: InPlaceOptions,
): Promise<InPlaceSummary> {
  const { keepAll, tally, deltas } = opts;
  const kept: FileReport[] = [];
  const others: FileReport[] = [];
  const framed: string[] = [];
  const deltaFiles: string[] = [];
  // Files are found and validated as the walk goes: no list of every file is made.
  const inputs = (function* () {
    for (const f of source.found()) {
      if ("input" in f) {
        yield f.input;
        continue;
      }
      if ("other" in f && opts.framed !== false && framedInnodb(f.other)) {
        framed.push(f.other);
        continue;
      }
      if ("other" in f && deltas && f.other.endsWith(".ibd.delta")) {
        deltaFiles.push(f.other); // an incremental's: checked on their own below
        continue;
      }
      const r = notValidatedReport({ name: "other" in f ? f.other : f.skipped });
      if ("reason" in f) r.note = f.reason;
      tally.add(r);
      if (keepAll || r.note || others.length < 10) others.push(r);
    }
  })();
  await validateEach(inputs, opts, (r, i) => {
    tally.add(r);
    if (keepAll || r.status !== "valid" || r.encryptedNotVerified) kept[i] = r;
  });
  const fr = await validateFramed(source.root, framed, {
    algorithm: opts.algorithm,
    threshold: opts.threshold,
    signal: opts.signal,
  });
  for (const f of fr.files) tally.add(f);
  for (const rel of deltaFiles) {
    const file = `${source.root}/${rel}`;
    const size = statSync(file).size;
    const v = await validateDelta(
      { path: rel, size, data: readFileChunks(file) },
      opts.algorithm,
      opts.threshold,
    );
    deltas!.push(v);
    tally.add(v.report);
  }
  return {
    files: [
      ...kept.filter(Boolean),
      ...fr.files,
      ...(deltas ?? []).map((v) => v.report),
      ...others,
    ],
    problems: fr.problems,
  };
}
