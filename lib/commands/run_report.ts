/**
 * The one end-of-run reporter of every command: the same human summary line
 * (`VERB COUNT NOUN[: DETAILS], BYTES bytes (SIZE) in S s[ to DEST][; EXTRA]`) and
 * the same `--json` document shape (see {@link RunDocument}), printed on success
 * and, when the command fails, with the error.
 */
import type { CommandContext } from "./command.ts";
import { CorruptionError, exitCodeOf, IbvaultError, UsageError } from "../errors.ts";
import { formatBytes, type Reporter } from "../progress/reporter.ts";

/** How a run ended: everything done, corruption found, or failed. */
export type RunStatus = "ok" | "corrupt" | "error";

/**
 * The `--json` document every command prints (the README's "JSON report" holds
 * the schema): these fields, then the command's own.
 */
export interface RunDocument {
  command: string;
  status: RunStatus;
  /** ISO times, UTC. */
  startedAt: string;
  finishedAt: string;
  seconds: number;
  /** The server talked to, or the one the backup came from: `{ flavor, version, ... }`; null if none. */
  server: { flavor: string; version: string; [fact: string]: unknown } | null;
  /** Counts and sums of the run (tables, files, entries, bytes, pages, ...); `{}` when nothing ran. */
  totals: Record<string, unknown>;
  /** Warnings reported during the run, in order. */
  warnings: string[];
  /** Why the run failed (status "error", or "corrupt" when it stopped on corruption). */
  error?: { kind: string; message: string; exitCode: number };
  /** The command's results: per-table or per-file lists, totals, destination... */
  [field: string]: unknown;
}

/** The parts of the human summary line. */
export interface SummaryLine {
  /** `backed up`, `copied back`, `validated`, `wrote`, ... */
  verb: string;
  /** `2`, or `2 of 3`. */
  count: number | string;
  /** `table(s)`, `entries`, `files`. */
  noun: string;
  /** After a colon: what the count found (`10 pages, 0 corrupt pages ...`). */
  details?: string;
  bytes: number;
  /** Where the output went. */
  destination?: string;
  /** After a semicolon (`tables locked 0.102 s`). */
  extra?: string;
}

/** The run of one command: collects warnings, prints the summary and the document. */
export class RunReport {
  readonly startedAt = new Date();
  readonly warnings: string[] = [];
  readonly #t0 = performance.now();
  #printed = false;
  /** The reporter commands use: warnings are also collected for the document. */
  readonly report: Reporter;

  /** For `command` in `ctx`; `stdoutTaken`: stdout carries data, so --json cannot be printed. */
  constructor(readonly ctx: CommandContext, readonly command: string, stdoutTaken = false) {
    const r = ctx.report;
    this.report = {
      info: (m) => r.info(m),
      warn: (m) => {
        this.warnings.push(m);
        r.warn(m);
      },
      error: (m) => r.error(m),
      progress: (s) => r.progress(s),
      endProgress: () => r.endProgress(),
    };
    if (stdoutTaken && ctx.options.json) {
      throw new UsageError("--json cannot be used with --backup-image=-: stdout carries the image");
    }
  }

  /** Seconds since the run started. */
  get seconds(): number {
    return (performance.now() - this.#t0) / 1000;
  }

  /** The summary line in the common shape. */
  line(s: SummaryLine): string {
    return `${s.verb} ${s.count} ${s.noun}${s.details ? `: ${s.details}` : ""}, ${s.bytes} bytes` +
      ` (${formatBytes(s.bytes)}) in ${this.seconds.toFixed(2)} s` +
      (s.destination ? ` to ${s.destination}` : "") + (s.extra ? `; ${s.extra}` : "");
  }

  /** The document with the common fields, then `body`. */
  document(status: RunStatus, body: Record<string, unknown>, err?: unknown): RunDocument {
    const doc: RunDocument = {
      command: this.command,
      status,
      startedAt: this.startedAt.toISOString(),
      finishedAt: new Date().toISOString(),
      seconds: this.seconds,
      server: null,
      totals: {},
      ...body,
      warnings: this.warnings,
    };
    if (err !== undefined) {
      doc.error = {
        kind: err instanceof IbvaultError ? err.name : "Error",
        message: (err as Error)?.message ?? String(err),
        exitCode: exitCodeOf(err),
      };
    }
    return doc;
  }

  /**
   * End the run: clear progress, print the summary line (when given) and, with
   * --json, the document; returns the exit code for `status`.
   */
  finish(status: RunStatus, body: Record<string, unknown>, summary?: SummaryLine | string): number {
    this.report.endProgress();
    if (this.ctx.options.json) this.#print(this.document(status, body));
    if (summary) this.report.info(typeof summary === "string" ? summary : this.line(summary));
    return status === "ok" ? 0 : status === "corrupt" ? 1 : 3;
  }

  /** The run failed with `err`: print the document with the error (once) and throw it. */
  fail(err: unknown, body: Record<string, unknown> = {}): never {
    this.report.endProgress();
    if (this.ctx.options.json && !this.#printed) {
      this.#print(this.document(err instanceof CorruptionError ? "corrupt" : "error", body, err));
    }
    throw err;
  }

  #print(doc: RunDocument): void {
    this.#printed = true;
    this.ctx.printJson(doc);
  }
}

/**
 * A command's run function with its {@link RunReport}: a failure that the
 * command did not report itself is printed as an error document, then thrown.
 */
export function reported(
  command: string,
  run: (ctx: CommandContext, rep: RunReport) => Promise<number>,
  opts: { stdoutTaken?: (ctx: CommandContext) => boolean } = {},
): (ctx: CommandContext) => Promise<number> {
  return async (ctx) => {
    const rep = new RunReport(ctx, command, opts.stdoutTaken?.(ctx) ?? false);
    try {
      return await run({ ...ctx, report: rep.report }, rep);
    } catch (err) {
      return rep.fail(err);
    }
  };
}
