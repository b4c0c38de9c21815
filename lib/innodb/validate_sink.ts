/**
 * Validation as a sink: every entry of a source judged page by page
 * (`validateEntries`), and what the source delivered checked against its
 * manifest (missing, truncated, altered, unexpected entries).
 */
import type { Sink } from "../sink.ts";
import { checkCompleteness, type CompletenessReport } from "../core/completeness.ts";
import type { ChecksumAlgorithm } from "./algorithm.ts";
import type { FileReport } from "./report.ts";
import { validateEntries } from "./stream.ts";

/** Settings of the validation sink. */
export interface ValidationSinkOptions {
  algorithm: ChecksumAlgorithm;
  /** Stop judging a file after this many corrupt pages. */
  threshold: number;
  signal?: AbortSignal;
  /** Called with the bytes read so far. */
  onProgress?: (done: number) => void;
  /** Hot copies the source leaves as stored, each followed by its delta (joined, not rebuilt). */
  hotCopies?: ReadonlySet<string>;
}

/** What validating a source found. */
export interface ValidationSinkSummary {
  files: FileReport[];
  completeness: CompletenessReport;
}

/** A sink that validates every entry of a source and its completeness. */
export function validationSink(opts: ValidationSinkOptions): Sink<ValidationSinkSummary> {
  return {
    async write(source) {
      const files = await validateEntries(source.entries(), { ...opts, name: source.name });
      return { files, completeness: checkCompleteness(source.manifest, source.seen) };
    },
  };
}
