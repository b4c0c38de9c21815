/**
 * innodb_checksum_algorithm values and how strictly each judges a page. The
 * non-strict values (crc32, full_crc32, innodb, none) accept a page whose stored
 * checksum matches any flavour, as the server does; the strict_* values accept
 * only the named one. Pages of a full_crc32 tablespace are always judged by
 * their full_crc32 checksum: the format, not the setting, decides.
 */
import { UsageError } from "../errors.ts";

/** How classic-format pages are judged. */
export type Strictness = "any" | "crc32" | "innodb" | "none";

/** A parsed --innodb-checksum-algorithm. */
export interface ChecksumAlgorithm {
  /** The name as given (or `any` when nothing was given or recorded). */
  name: string;
  strict: Strictness;
}

const NAMES = [
  "crc32",
  "full_crc32",
  "innodb",
  "none",
  "strict_crc32",
  "strict_full_crc32",
  "strict_innodb",
  "strict_none",
];

/** Parse an algorithm name (case-insensitive); undefined or "any" means non-strict. */
export function parseAlgorithm(name?: string): ChecksumAlgorithm {
  if (name === undefined || name === "" || name.toLowerCase() === "any") {
    return { name: "any", strict: "any" };
  }
  const n = name.toLowerCase();
  if (!NAMES.includes(n)) {
    throw new UsageError(
      `unknown --innodb-checksum-algorithm '${name}': use one of ${NAMES.join(", ")}`,
    );
  }
  if (!n.startsWith("strict_")) return { name: n, strict: "any" };
  const base = n.slice("strict_".length);
  return { name: n, strict: base === "full_crc32" ? "crc32" : base as Strictness };
}
