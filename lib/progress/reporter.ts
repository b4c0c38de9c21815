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

/** A reporter writing to a stream (stderr by default); `showProgress` undefined means "if a TTY". */
export function createReporter(
  opts: { showProgress?: boolean; quiet?: boolean; write?: (s: string) => void; isTTY?: boolean } =
    {},
): Reporter {
  const write = opts.write ?? ((s: string) => void process.stderr.write(s));
  const isTTY = opts.isTTY ?? Boolean(process.stderr.isTTY);
  const bar = opts.showProgress ?? isTTY;
  const start = performance.now();
  let drawn = false;
  let lastDraw = 0;
  const clear = () => {
    if (drawn) write(isTTY ? "\r\x1b[2K" : "\n");
    drawn = false;
  };
  // Messages carry names from images, manifests and servers: escaped on the way out.
  const line = (s: string) => {
    clear();
    write(printableLines(s) + "\n");
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
      if (now - lastDraw < 100 && s.done !== s.total) return;
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
      if (isTTY) {
        write("\r\x1b[2K" + text);
        drawn = true;
      } else {
        write(text + "\n");
      }
    },
    endProgress: clear,
  };
}
