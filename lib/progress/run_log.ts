/**
 * The run log (MEB keeps one under a backup's `meta/`): a text file holding the
 * command line with secrets masked, the server, every message with a timestamp,
 * and the summary. Created exclusively (never through a link, never over another
 * file), written line by line as the run goes, so a killed run leaves what it
 * had said. Also the MEB `YYMMDD HH:MM:SS` stamp that `--timestamps` puts before
 * terminal lines.
 */
import { closeSync, constants, mkdirSync, openSync, writeSync } from "node:fs";
import { join } from "node:path";
import { IoError } from "../errors.ts";
import { printable, printableLines } from "../names/printable.ts";
import type { Reporter } from "./reporter.ts";

/** Options whose value is a secret, masked in the logged command line. */
const SECRET_OPTIONS = ["password", "key"];

/**
 * The command line as it may be logged: the values of `--password=V`, `--key=V`,
 * `--key V` (any `_`/`-` spelling) and `-pVALUE` become `***` (a bare `--password`
 * or `-p` prompts and takes no value). Quotes arguments that need it so the line
 * can be read back; control characters are escaped.
 */
export function maskedCommandLine(argv: readonly string[]): string {
  const out: string[] = [];
  let maskNext = false;
  for (const arg of argv) {
    if (maskNext && !arg.startsWith("-")) {
      out.push("***");
      maskNext = false;
      continue;
    }
    maskNext = false;
    const m = /^--([A-Za-z0-9_-]+)(=.*)?$/s.exec(arg);
    const name = m?.[1].replaceAll("_", "-");
    if (m && name && SECRET_OPTIONS.includes(name)) {
      if (m[2] !== undefined) out.push(`--${m[1]}=***`);
      else {
        out.push(arg);
        maskNext = name === "key"; // a bare --password prompts: the next word is not it
      }
      continue;
    }
    if (/^-p./s.test(arg)) {
      out.push("-p***");
      continue;
    }
    out.push(quoteArg(arg));
  }
  return out.join(" ");
}

function quoteArg(a: string): string {
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(a)) return a;
  return `'${printable(a).replaceAll("'", "'\\''")}'`;
}

const pad = (n: number, w = 2) => String(n).padStart(w, "0");

/** MEB's message stamp in local time: `YYMMDD HH:MM:SS`. */
export function mebStamp(d: Date = new Date()): string {
  return `${pad(d.getFullYear() % 100)}${pad(d.getMonth() + 1)}${pad(d.getDate())} ` +
    `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

/** The timestamp in a log file name: UTC, `YYYYMMDD-HHMMSS`. */
export function logNameStamp(d: Date = new Date()): string {
  return `${d.getUTCFullYear()}${pad(d.getUTCMonth() + 1)}${pad(d.getUTCDate())}-` +
    `${pad(d.getUTCHours())}${pad(d.getUTCMinutes())}${pad(d.getUTCSeconds())}`;
}

/** An open run log. */
export interface RunLog {
  /** Path of the log file. */
  readonly path: string;
  /** Append one message line, stamped with the time (ISO 8601, UTC). */
  line(text: string): void;
  /** Close the file (further lines are dropped). */
  close(): void;
}

const CREATE_FLAGS = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL |
  (constants.O_NOFOLLOW ?? 0);

function errnoOf(e: unknown): string {
  return (e as NodeJS.ErrnoException).code ?? String(e);
}

/** A log over the open descriptor `fd`; a write that fails ends logging, never the run. */
function logOn(path: string, fd: number): RunLog {
  let open: number | undefined = fd;
  return {
    path,
    line(text) {
      if (open === undefined) return;
      const stamp = new Date().toISOString();
      const body = printableLines(text).split("\n").map((l) => `${stamp} ${l}`).join("\n");
      try {
        writeSync(open, body + "\n");
      } catch {
        try {
          closeSync(open);
        } catch { /* already gone */ }
        open = undefined;
      }
    },
    close() {
      if (open !== undefined) closeSync(open);
      open = undefined;
    },
  };
}

/** Open a new log file at exactly `path` (exclusive: an existing file is an IoError). */
export function openRunLogFile(path: string): RunLog {
  try {
    return logOn(path, openSync(path, CREATE_FLAGS, 0o640));
  } catch (e) {
    const code = errnoOf(e);
    throw new IoError(
      code === "EEXIST"
        ? `--log-file=${printable(path)}: the file already exists (ibvault never overwrites a log)`
        : `cannot create the run log ${printable(path)} (${code}): use --log-file=PATH or --no-log`,
    );
  }
}

/**
 * Open `DIR/meta/ibvault_<command>_<stamp>.log` (meta/ made if missing), adding
 * `-2`, `-3`, ... to the name when a run of the same second already has one.
 */
export function openRunLogIn(dir: string, command: string, now: Date = new Date()): RunLog {
  const meta = join(dir, "meta");
  try {
    mkdirSync(meta, { recursive: true, mode: 0o750 });
  } catch (e) {
    throw new IoError(
      `cannot create ${printable(meta)} for the run log (${errnoOf(e)}): ` +
        "use --log-file=PATH or --no-log",
    );
  }
  const base = `ibvault_${command}_${logNameStamp(now)}`;
  for (let n = 1;; n++) {
    const path = join(meta, `${base}${n === 1 ? "" : `-${n}`}.log`);
    try {
      return logOn(path, openSync(path, CREATE_FLAGS, 0o640));
    } catch (e) {
      if (errnoOf(e) === "EEXIST" && n < 100) continue;
      throw new IoError(
        `cannot create the run log ${printable(path)} (${errnoOf(e)}): ` +
          "use --log-file=PATH or --no-log",
      );
    }
  }
}

/**
 * A reporter that also writes every message (not progress) to `log()`, which
 * may be undefined until the command knows where its log goes: messages before
 * that are kept (up to 1000) and written when `flush()` is called after it opens.
 */
export function teeReporter(
  inner: Reporter,
  log: () => RunLog | undefined,
): Reporter & { flush(): void } {
  const early: string[] = [];
  const put = (s?: string) => {
    const l = log();
    if (!l) {
      if (s !== undefined && early.length < 1000) early.push(s);
      return;
    }
    for (const e of early.splice(0)) l.line(e);
    if (s !== undefined) l.line(s);
  };
  return {
    flush: () => put(),
    info: (m) => {
      inner.info(m);
      put(m);
    },
    warn: (m) => {
      inner.warn(m);
      put(`WARNING: ${m}`);
    },
    error: (m) => {
      inner.error(m);
      put(`ERROR: ${m}`);
    },
    progress: (s) => inner.progress(s),
    endProgress: () => inner.endProgress(),
  };
}
