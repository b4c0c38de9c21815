/**
 * Progress and log reporting on stderr: a redrawn bar on a terminal, plain lines
 * otherwise. Commands report through a {@link Reporter} and never write to stderr
 * themselves, so `--json` and `--no-progress` behave the same everywhere.
 */
import process from "node:process";
import { printable, printableLines } from "../names/printable.ts";

/** One progress state: `done` of `total` units, with a label. */
export interface ProgressState {
  label: string;
  done: number;
  total?: number;
  /** "bytes" renders sizes and a rate; "items" renders counts. */
  unit: "bytes" | "items";
}

/** Where commands send their messages. */
export interface Reporter {
  /** A normal log line (`ibvault: ...`). */
  info(message: string): void;
  /** A warning line (`ibvault: WARNING: ...`). */
  warn(message: string): void;
  /** An error line (`ibvault: ERROR: ...`); does not stop anything. */
  error(message: string): void;
  /** Update the progress display (terminal only, or when forced). */
  progress(state: ProgressState): void;
  /** Clear the progress display before the final lines. */
  endProgress(): void;
}

/** Format a byte count for humans: `1.5 GiB`. */
export function formatBytes(n: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) {
    n /= 1024;
    i++;
  }
  return `${i === 0 ? n : n.toFixed(1)} ${units[i]}`;
}

/** How a reporter writes. */
export interface ReporterOptions {
  /** true: progress even without a terminal; false: never; undefined: only on a terminal. */
  showProgress?: boolean;
  quiet?: boolean;
  /** Where messages go (stderr by default). */
  write?: (s: string) => void;
  isTTY?: boolean;
  /** Where progress goes instead of `write` (`--show-progress=stdout|file:|fifo:`). */
  progress?: { write: (s: string) => void; isTTY: boolean };
  /** Milliseconds between progress lines when not redrawing a terminal (default 2000). */
  intervalMs?: number;
  /** Stamp message lines with this (MEB's `YYMMDD HH:MM:SS`, `--timestamps`). */
  stamp?: () => string;
}

/** A reporter writing to a stream (stderr by default); `showProgress` undefined means "if a TTY". */
export function createReporter(opts: ReporterOptions = {}): Reporter {
  const write = opts.write ?? ((s: string) => void process.stderr.write(s));
  const isTTY = opts.isTTY ?? Boolean(process.stderr.isTTY);
  const pWrite = opts.progress?.write ?? write;
  const pTTY = opts.progress ? opts.progress.isTTY : isTTY;
  const shared = !opts.progress; // progress and messages on the same stream
  const bar = opts.showProgress ?? isTTY;
  const every = pTTY ? 100 : opts.intervalMs ?? 2000;
  const stamp = () => (opts.stamp ? `${opts.stamp()} ` : "");
  const start = performance.now();
  let drawn = false;
  let lastDraw = -Infinity;
  let endShown: string | undefined;
  const clear = () => {
    if (drawn) pWrite(pTTY ? "\r\x1b[2K" : "\n");
    drawn = false;
  };
  // Messages carry names from images, manifests and servers: escaped on the way out.
  const line = (s: string) => {
    if (shared) clear();
    write(stamp() + printableLines(s) + "\n");
  };
  return {
    info: (m) => {
      if (!opts.quiet) line(`ibvault: ${m}`);
    },
    warn: (m) => line(`ibvault: WARNING: ${m}`),
    error: (m) => line(`ibvault: ERROR: ${m}`),
    progress: (s) => {
      if (!bar) return;
      const now = performance.now();
      // The end (done reaching total) shows at once, and once per label.
      const end = Boolean(s.total && s.done >= s.total);
      if (now - lastDraw < every && (!end || endShown === s.label)) return;
      if (end) endShown = s.label;
      lastDraw = now;
      const secs = (now - start) / 1000;
      let text = printable(s.label) + " ";
      if (s.unit === "bytes") {
        text += formatBytes(s.done);
        if (s.total) text += ` / ${formatBytes(s.total)}`;
        if (secs > 0) text += ` ${formatBytes(s.done / secs)}/s`;
      } else {
        text += s.total ? `${s.done}/${s.total}` : `${s.done}`;
      }
      if (s.total) {
        const frac = Math.min(1, s.done / s.total);
        const width = 20;
        const full = Math.round(frac * width);
        text = `[${"#".repeat(full)}${".".repeat(width - full)}] ${(frac * 100).toFixed(0)}% ` +
          text;
        if (frac > 0 && frac < 1) text += ` ETA ${Math.round(secs / frac - secs)}s`;
      }
      if (pTTY) {
        pWrite("\r\x1b[2K" + text);
        drawn = true;
      } else {
        pWrite(stamp() + text + "\n");
      }
    },
    endProgress: clear,
  };
}
