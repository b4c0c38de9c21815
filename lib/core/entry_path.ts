/**
 * Entry paths as stored in images and written to disk: relative, `/`-separated,
 * no empty, `.` or `..` components, no NUL or backslash, bounded lengths. Anything
 * else is refused, so an image can never make ibvault write outside its destination.
 */
import { CorruptionError } from "../errors.ts";

/** Longest entry path accepted, in UTF-8 bytes. */
export const MAX_PATH_BYTES = 4096;
/** Longest path component accepted, in UTF-8 bytes. */
export const MAX_COMPONENT_BYTES = 255;

/** Why `path` is not a safe entry path, or undefined when it is. */
export function entryPathProblem(path: string): string | undefined {
  const bytes = new TextEncoder().encode(path).length;
  if (path.length === 0) return "empty path";
  if (bytes > MAX_PATH_BYTES) return `path longer than ${MAX_PATH_BYTES} bytes`;
  if (path.includes("\0")) return "path contains a NUL byte";
  if (path.includes("\\")) return "path contains a backslash";
  if (path.startsWith("/")) return "absolute path";
  for (const part of path.split("/")) {
    if (part === "" || part === "." || part === "..") return `path component '${part}'`;
    if (new TextEncoder().encode(part).length > MAX_COMPONENT_BYTES) {
      return `path component longer than ${MAX_COMPONENT_BYTES} bytes`;
    }
  }
  return undefined;
}

/** Throw a CorruptionError (naming `where`) unless `path` is a safe entry path. */
export function checkEntryPath(path: string, where: string): string {
  const problem = entryPathProblem(path);
  if (problem) {
    throw new CorruptionError(`${where}: refused entry name ${JSON.stringify(path)}: ${problem}`);
  }
  return path;
}

/** True when `path` is `prefix` itself or lies under it (`db` selects `db/t.ibd`). */
export function isUnder(path: string, prefix: string): boolean {
  const p = prefix.replace(/\/$/, "");
  return path === p || path.startsWith(p + "/");
}
