/**
 * Where progress goes, as MEB's `--show-progress[=DEST]` says: `stderr` (the
 * default), `stdout`, `file:PATH` (created or truncated, never through a link)
 * or `fifo:PATH` (an existing FIFO; progress is dropped while no one reads it,
 * the run never waits for a reader).
 */
import { closeSync, constants, fstatSync, openSync, writeSync } from "node:fs";
import process from "node:process";
import { UsageError } from "../errors.ts";

/** A parsed `--show-progress` value. */
export type ProgressTarget =
  | { kind: "stderr" }
  | { kind: "stdout" }
  | { kind: "file"; path: string }
  | { kind: "fifo"; path: string };

/** Parse a `--show-progress` value (`true`/empty: stderr); UsageError otherwise. */
export function parseProgressTarget(value: string | true): ProgressTarget {
  if (value === true || value === "" || value === "stderr") return { kind: "stderr" };
  if (value === "stdout") return { kind: "stdout" };
  const m = /^(file|fifo):(.+)$/s.exec(value);
  if (m) return { kind: m[1] as "file" | "fifo", path: m[2] };
  throw new UsageError(
    `--show-progress=${value}: give stderr, stdout, file:PATH or fifo:PATH`,
  );
}

/** An open destination: `write` never throws and never blocks the run. */
export interface ProgressSink {
  write(text: string): void;
  /** True for a terminal (the bar is redrawn in place). */
  isTTY: boolean;
  close(): void;
}

/** Open `t`; a file or FIFO that cannot be opened is a UsageError naming it. */
export function openProgressSink(t: ProgressTarget): ProgressSink {
  if (t.kind === "stderr" || t.kind === "stdout") {
    const s = t.kind === "stderr" ? process.stderr : process.stdout;
    return { write: (x) => void s.write(x), isTTY: Boolean(s.isTTY), close() {} };
  }
  let fd: number;
  try {
    fd = t.kind === "file"
      ? openSync(
        t.path,
        constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | (constants.O_NOFOLLOW ?? 0),
        0o640,
      )
      // No reader yet: ENXIO. Non-blocking so a slow reader never stalls the run.
      : openSync(t.path, constants.O_WRONLY | constants.O_NONBLOCK);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? String(e);
    const why = code === "ENXIO" ? "no process is reading the FIFO" : code;
    throw new UsageError(`--show-progress=${t.kind}:${t.path}: cannot open it (${why})`);
  }
  if (t.kind === "fifo" && !fstatSync(fd).isFIFO()) {
    closeSync(fd);
    throw new UsageError(`--show-progress=fifo:${t.path}: not a FIFO (make one with mkfifo)`);
  }
  let open = true;
  return {
    isTTY: false,
    write(x) {
      if (!open) return;
      try {
        writeSync(fd, x);
      } catch (e) {
        // A full FIFO drops this update; a reader gone (EPIPE) ends progress output.
        if ((e as NodeJS.ErrnoException).code !== "EAGAIN") this.close();
      }
    },
    close() {
      if (open) closeSync(fd);
      open = false;
    },
  };
}
