/** The validation report: one record per file, and the totals of a run. */
import type { CorruptPage } from "./page_range.ts";
import type { SpaceInfo } from "./flags.ts";

/** The outcome for one file. */
export interface FileReport {
  /** On-disk name as shown (relative path, filename-encoded). */
  name: string;
  /** Unicode `db`.`table` (with partition) when the name encodes one. */
  table?: string;
  /** valid, corrupt, error (could not be read), or not-validated (not an InnoDB file). */
  status: "valid" | "corrupt" | "error" | "not-validated";
  /** Why the file could not be read. */
  error?: string;
  /** Tablespace format (`16k`, `full_crc32 16k`, `16k compressed 4k`, ...). */
  format?: string;
  pageSize?: number;
  physicalPageSize?: number;
  bytes: number;
  /** Pages judged. */
  pages: number;
  /** Pages not judged (doublewrite buffer copies in the system tablespace). */
  skippedPages: number;
  /** Corrupt pages found (capped at the threshold). */
  corruptPages: number;
  /** The threshold stopped the file: there are at least `corruptPages`. */
  atLeast: boolean;
  /** The corrupt pages, in page order. */
  corrupt: CorruptPage[];
  /** Valid pages per checksum flavour. */
  flavours: Record<string, number>;
  /** The checksum flavour most non-zero valid pages carry. */
  flavour?: string;
  /** Trailing bytes that do not make a whole page. */
  truncatedBytes?: number;
}

/** The whole run. */
export interface ValidationReport {
  algorithm: string;
  files: FileReport[];
  totals: {
    files: number;
    validated: number;
    corruptFiles: number;
    unreadableFiles: number;
    notValidated: number;
    pages: number;
    corruptPages: number;
    bytes: number;
    seconds: number;
    mbPerSecond: number;
  };
}

/** Totals over file reports. */
export function summarize(
  algorithm: string,
  files: FileReport[],
  seconds: number,
): ValidationReport {
  let pages = 0, corruptPages = 0, bytes = 0;
  for (const f of files) {
    pages += f.pages;
    corruptPages += f.corruptPages;
    if (f.status !== "not-validated") bytes += f.bytes;
  }
  const count = (s: FileReport["status"]) => files.filter((f) => f.status === s).length;
  return {
    algorithm,
    files,
    totals: {
      files: files.length,
      validated: count("valid") + count("corrupt"),
      corruptFiles: count("corrupt"),
      unreadableFiles: count("error"),
      notValidated: count("not-validated"),
      pages,
      corruptPages,
      bytes,
      seconds,
      mbPerSecond: seconds > 0 ? bytes / 1e6 / seconds : 0,
    },
  };
}

/** What a report names: the file as shown, and the table it belongs to. */
export interface ReportSubject {
  name: string;
  table?: string;
}

function blank(subject: ReportSubject, status: FileReport["status"], bytes: number): FileReport {
  return {
    name: subject.name,
    table: subject.table,
    status,
    bytes,
    pages: 0,
    skippedPages: 0,
    corruptPages: 0,
    atLeast: false,
    corrupt: [],
    flavours: {},
  };
}

/** A report for a file that could not be validated, and why. */
export function errorReport(subject: ReportSubject, error: string, bytes = 0): FileReport {
  const r = blank(subject, "error", bytes);
  r.error = error;
  return r;
}

/** A report for a file that is not an InnoDB tablespace (listed, not judged). */
export function notValidatedReport(subject: ReportSubject, bytes = 0): FileReport {
  return blank(subject, "not-validated", bytes);
}

/** A report for a tablespace of this format about to be judged (valid until pages say otherwise). */
export function validReport(
  subject: ReportSubject,
  bytes: number,
  format: string,
  space: SpaceInfo,
): FileReport {
  const r = blank(subject, "valid", bytes);
  r.format = format;
  r.pageSize = space.logicalSize;
  r.physicalPageSize = space.physicalSize;
  return r;
}
