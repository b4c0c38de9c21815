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
  /** Why an InnoDB file was deliberately not validated (e.g. the temporary tablespace). */
  note?: string;
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
  /**
   * MySQL keyring-encrypted pages read without their key: page number checked,
   * checksum not verified (not corrupt, not proved valid either).
   */
  encryptedNotVerified?: number;
  /** Why the MySQL tablespace key could not be had (keyring or .cfp given but no key from them). */
  keyProblem?: string;
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
    /** Encrypted pages not verified (no key), over all files. */
    encryptedNotVerified: number;
    bytes: number;
    seconds: number;
    mbPerSecond: number;
  };
}

/**
 * Totals accumulated one file report at a time, so a run over many files need
 * not keep the reports of the valid ones.
 */
export class RunTally {
  files = 0;
  validated = 0;
  corruptFiles = 0;
  unreadableFiles = 0;
  notValidated = 0;
  pages = 0;
  corruptPages = 0;
  encryptedNotVerified = 0;
  bytes = 0;
  /** Files that are not InnoDB tablespaces, by extension (`(no extension)` for none). */
  readonly otherExtensions = new Map<string, number>();

  /** Count one file. */
  add(f: FileReport): void {
    this.files++;
    if (f.status === "not-validated" && !f.note) {
      const ext = /\.[^./]+$/.exec(f.name)?.[0] ?? "(no extension)";
      this.otherExtensions.set(ext, (this.otherExtensions.get(ext) ?? 0) + 1);
    }
    this.pages += f.pages;
    this.corruptPages += f.corruptPages;
    this.encryptedNotVerified += f.encryptedNotVerified ?? 0;
    if (f.status !== "not-validated") this.bytes += f.bytes;
    if (f.status === "valid" || f.status === "corrupt") this.validated++;
    if (f.status === "corrupt") this.corruptFiles++;
    else if (f.status === "error") this.unreadableFiles++;
    else if (f.status === "not-validated") this.notValidated++;
  }

  /** The run's report: these totals with the file records kept (all of them, or the notable ones). */
  report(algorithm: string, files: FileReport[], seconds: number): ValidationReport {
    return {
      algorithm,
      files,
      totals: {
        files: this.files,
        validated: this.validated,
        corruptFiles: this.corruptFiles,
        unreadableFiles: this.unreadableFiles,
        notValidated: this.notValidated,
        pages: this.pages,
        corruptPages: this.corruptPages,
        encryptedNotVerified: this.encryptedNotVerified,
        bytes: this.bytes,
        seconds,
        mbPerSecond: seconds > 0 ? this.bytes / 1e6 / seconds : 0,
      },
    };
  }
}

/** Totals over file reports. */
export function summarize(
  algorithm: string,
  files: FileReport[],
  seconds: number,
): ValidationReport {
  const tally = new RunTally();
  for (const f of files) tally.add(f);
  return tally.report(algorithm, files, seconds);
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
