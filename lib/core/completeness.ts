/**
 * Completeness of a backup against its manifest: which entries are missing,
 * truncated (or of another size), altered (same size, other CRC-32C) or
 * unexpected (present but not listed), by name. Used by the directory sink,
 * `validate --backup-image` and `validate --backup-dir`.
 */
import { isStreamed, type Manifest } from "./manifest.ts";
import { printable } from "../names/printable.ts";

/** What was found for one entry: its size and, when computed, its CRC-32C (8 hex digits). */
export interface SeenEntry {
  size: number;
  crc32c?: string;
}

/**
 * A live read-only view of two maps of entries with no path in common (a
 * source's own and those a wrapper adds): lookups cost nothing extra, and what
 * either map gains later shows.
 */
export function seenUnion(
  a: ReadonlyMap<string, SeenEntry>,
  b: ReadonlyMap<string, SeenEntry>,
): ReadonlyMap<string, SeenEntry> {
  const entries = function* (): MapIterator<[string, SeenEntry]> {
    yield* a.entries();
    yield* b.entries();
  };
  return {
    get: (k) => a.get(k) ?? b.get(k),
    has: (k) => a.has(k) || b.has(k),
    get size() {
      return a.size + b.size;
    },
    entries,
    [Symbol.iterator]: entries,
    keys: () => new Map(entries()).keys(),
    values: () => new Map(entries()).values(),
    forEach(f, self) {
      for (const [k, v] of entries()) f.call(self, v, k, this);
    },
  };
}

/** The verdict, each list of entry paths sorted. */
export interface CompletenessReport {
  missing: string[];
  /** Size differs from the manifest's: `{path, expected, found}`. */
  truncated: { path: string; expected: number; found: number }[];
  /** Same size, different CRC-32C. */
  altered: string[];
  unexpected: string[];
  ok: boolean;
}

/**
 * Compare what was seen (path → size/CRC) with what the manifest lists. A
 * streamed manifest (empty entry list, see {@link isStreamed}) lists
 * nothing to compare against: nothing is reported unexpected.
 */
export function checkCompleteness(
  manifest: Manifest,
  seen: ReadonlyMap<string, SeenEntry>,
): CompletenessReport {
  const streamed = isStreamed(manifest);
  const listed = new Map(manifest.entries.map((e) => [e.path, e]));
  const missing: string[] = [], altered: string[] = [], unexpected: string[] = [];
  const truncated: CompletenessReport["truncated"] = [];
  for (const [path, e] of listed) {
    const s = seen.get(path);
    if (!s) missing.push(path);
    else if (s.size !== e.size) truncated.push({ path, expected: e.size, found: s.size });
    else if (s.crc32c && e.crc32c && s.crc32c.toLowerCase() !== e.crc32c.toLowerCase()) {
      altered.push(path);
    }
  }
  if (!streamed) { for (const path of seen.keys()) if (!listed.has(path)) unexpected.push(path); }
  missing.sort();
  altered.sort();
  unexpected.sort();
  truncated.sort((a, b) => (a.path < b.path ? -1 : 1));
  return {
    missing,
    truncated,
    altered,
    unexpected,
    ok: !missing.length && !truncated.length && !altered.length && !unexpected.length,
  };
}

/** One line per problem, for reports and error messages. */
export function describeCompleteness(r: CompletenessReport): string[] {
  return [
    ...r.missing.map((p) => `missing entry: ${printable(p)}`),
    ...r.truncated.map((t) =>
      `${t.found < t.expected ? "truncated" : "oversized"} entry: ${
        printable(t.path)
      } (${t.found} of ${t.expected} bytes)`
    ),
    ...r.altered.map((p) => `altered entry (CRC-32C mismatch): ${printable(p)}`),
    ...r.unexpected.map((p) => `unexpected entry (not in the manifest): ${printable(p)}`),
  ];
}
