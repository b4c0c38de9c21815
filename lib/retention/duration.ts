/**
 * Durations and sizes as operators type them: `90s`, `36h`, `7d`, `2w`, `1d12h`
 * (restic and systemd spellings), and `3GiB`, `500M`, `1000000` bytes.
 */
import { UsageError } from "../errors.ts";

const UNIT_MS: Record<string, number> = {
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 7 * 86_400_000,
};

/**
 * Parse a duration (`90s`, `36h`, `7d`, `2w`, `1d12h`, `30m`; a bare number is
 * seconds) into milliseconds; a UsageError names `option` and the value otherwise.
 */
export function parseDuration(text: string, option: string): number {
  const t = text.trim().toLowerCase();
  if (/^\d+$/.test(t)) return Number(t) * 1000;
  const re = /(\d+)\s*([smhdw])/gy;
  let ms = 0, matched = 0;
  for (const m of t.matchAll(re)) {
    ms += Number(m[1]) * UNIT_MS[m[2]];
    matched += m[0].length;
  }
  if (t.length === 0 || matched !== t.length) {
    throw new UsageError(
      `${option}=${text}: not a duration (use a number with s, m, h, d or w: 90s, 36h, 7d, 1d12h)`,
    );
  }
  return ms;
}

const SIZE_UNITS: Record<string, number> = {
  "": 1,
  b: 1,
  k: 1024,
  kb: 1000,
  kib: 1024,
  m: 1024 ** 2,
  mb: 1000 ** 2,
  mib: 1024 ** 2,
  g: 1024 ** 3,
  gb: 1000 ** 3,
  gib: 1024 ** 3,
  t: 1024 ** 4,
  tb: 1000 ** 4,
  tib: 1024 ** 4,
};

/**
 * Parse a size (`3GiB`, `3G` = GiB as MySQL reads it, `3GB` = 10^9, `500MiB`, a
 * bare number of bytes) into bytes; a UsageError names `option` otherwise.
 */
export function parseSize(text: string, option: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(text);
  const unit = m ? SIZE_UNITS[m[2].toLowerCase()] : undefined;
  if (!m || unit === undefined) {
    throw new UsageError(
      `${option}=${text}: not a size (use bytes or K, M, G, T, KiB, MB, GiB...)`,
    );
  }
  return Math.round(Number(m[1]) * unit);
}

/** A duration for humans, largest two units: `7h`, `1d 2h`, `45s`, `3m 20s`. */
export function formatDuration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  const parts: [number, string][] = [
    [Math.floor(s / 86400), "d"],
    [Math.floor((s % 86400) / 3600), "h"],
    [Math.floor((s % 3600) / 60), "m"],
    [s % 60, "s"],
  ];
  const first = parts.findIndex(([n]) => n > 0);
  if (first < 0) return "0s";
  return parts.slice(first, first + 2).filter(([n]) => n > 0).map(([n, u]) => `${n}${u}`)
    .join(" ");
}
