/**
 * Option values checked where they are read (command line or option file), so a
 * bad value is a usage error (exit 2) naming the option before anything runs,
 * never a driver or runtime message later. One checker per option name; options
 * without one take any value of their type.
 */
import { checkCharset } from "../names/charset.ts";
import { parseAlgorithm } from "../innodb/algorithm.ts";

/** Checks a converted value; returns what is wrong (a phrase after the option name) or undefined. */
export type ValueCheck = (value: unknown) => string | undefined;

function wholeNumberIn(min: number, max: number): ValueCheck {
  return (v) =>
    typeof v === "number" && Number.isSafeInteger(v) && v >= min && v <= max
      ? undefined
      : `must be a whole number from ${min} to ${max} (got ${v})`;
}

function throwsUsage(fn: (v: string) => void): ValueCheck {
  return (v) => {
    try {
      fn(String(v));
      return undefined;
    } catch (e) {
      return (e as Error).message;
    }
  };
}

/** The checkers, by long option name. */
export const OPTION_CHECKS: Readonly<Record<string, ValueCheck>> = {
  port: wholeNumberIn(1, 65535),
  threads: wholeNumberIn(1, 1024),
  "page-corrupt-threshold": wholeNumberIn(1, 2 ** 31),
  "lock-wait-timeout": wholeNumberIn(1, 31536000),
  "progress-interval": wholeNumberIn(1, 86400),
  "show-progress": (v) =>
    /^(stderr|stdout|(file|fifo):.+)$/s.test(String(v))
      ? undefined
      : `takes stderr, stdout, file:PATH or fifo:PATH (got '${v}')`,
  "log-file": nonEmpty,
  // The key itself is never echoed: only its shape is described.
  key: (v) => {
    const t = String(v).trim();
    if (!/^[0-9a-fA-F]*$/.test(t)) {
      return "must be 64 hexadecimal digits (found a non-hex character)";
    }
    return t.length === 64 ? undefined : `must be 64 hexadecimal digits (found ${t.length})`;
  },
  "key-env": (v) =>
    /^[A-Za-z_][A-Za-z0-9_]*$/.test(String(v)) ? undefined : "must name an environment variable",
  "default-character-set": throwsUsage(checkCharset),
  "innodb-checksum-algorithm": throwsUsage((v) => void parseAlgorithm(v)),
  "key-file": nonEmpty,
  "backup-dir": nonEmpty,
  "backup-image": nonEmpty,
  datadir: nonEmpty,
  socket: nonEmpty,
  "defaults-file": nonEmpty,
  "defaults-extra-file": nonEmpty,
};

function nonEmpty(v: unknown): string | undefined {
  return String(v) === "" ? "needs a value (got an empty one)" : undefined;
}

/**
 * What is wrong with `value` for option `name` (its converted form), or undefined
 * when it is acceptable or the option has no checker.
 */
export function checkOptionValue(name: string, value: unknown): string | undefined {
  return Object.hasOwn(OPTION_CHECKS, name) ? OPTION_CHECKS[name](value) : undefined;
}
