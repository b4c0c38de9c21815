/**
 * Temporary files (`NAME.ibvault-part`), safely: created exclusively and never
 * through a symbolic link (`O_CREAT | O_EXCL | O_NOFOLLOW`), so nobody who can
 * plant a link in a destination can make ibvault write anywhere else; and those
 * left by a run that was killed are recognised (no live process holds them open)
 * and removed by the next run into the same destination.
 */
import { constants } from "node:fs";
import { type FileHandle, lstat, open, readdir, readlink, rm, rmdir, stat } from "node:fs/promises";
import { basename, join } from "node:path";
import process from "node:process";
import { IoError } from "../errors.ts";
import { printable } from "../names/printable.ts";

/** Suffix of files being written. */
export const PART_SUFFIX = ".ibvault-part";

/** A temporary name that is not ours to use: a link, not a file, or a live run's file. */
export class PartFileRefused extends IoError {
  override name = "PartFileRefused";
}

const EXCLUSIVE = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL |
  (constants.O_NOFOLLOW ?? 0);

/**
 * Whether a process (this one included) holds `path` open, read from
 * `/proc/PID/fd`; false where there is no /proc (nothing can be proven held).
 * Processes whose descriptors cannot be read (other users, when not root) are
 * not counted.
 */
export async function heldOpen(path: string): Promise<boolean> {
  const name = basename(path);
  let target: { dev: number; ino: number };
  try {
    const st = await stat(path);
    target = { dev: st.dev, ino: st.ino };
  } catch {
    return false;
  }
  let pids: string[];
  try {
    pids = (await readdir("/proc")).filter((p) => /^\d+$/.test(p));
  } catch {
    return false;
  }
  for (const pid of pids) {
    let fds: string[];
    try {
      fds = await readdir(`/proc/${pid}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      try {
        // Cheap name check first, then the identity (a renamed or replaced file).
        const link = await readlink(`/proc/${pid}/fd/${fd}`);
        if (!link.endsWith(name) && !link.endsWith(`${name} (deleted)`)) continue;
        const st = await stat(`/proc/${pid}/fd/${fd}`);
        if (st.dev === target.dev && st.ino === target.ino) return true;
      } catch {
        // gone meanwhile
      }
    }
  }
  return false;
}

/**
 * Create `part` for writing, exclusively and without following a link. Something
 * already there is dealt with first: a file left by a dead run is removed; a
 * symbolic link or other non-file, or a file a live process holds open, is a
 * {@link PartFileRefused} (nothing is touched).
 */
export async function createPartFile(part: string, mode = 0o640): Promise<FileHandle> {
  try {
    return await open(part, EXCLUSIVE, mode);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    // Anything else (no space, permissions) goes to the caller as it is: the sinks
    // turn it into a message naming the file being written (outputError).
    if (code !== "EEXIST" && code !== "ELOOP") throw e;
  }
  const st = await lstat(part);
  if (st.isSymbolicLink() || !st.isFile()) {
    throw new PartFileRefused(
      `refusing to write ${printable(part)}: something that is not a file (` +
        `${st.isSymbolicLink() ? "a symbolic link" : "not a regular file"}) is at that ` +
        "temporary name; ibvault never writes through links: remove it and run again",
    );
  }
  if (await heldOpen(part)) {
    throw new PartFileRefused(
      `refusing to write ${printable(part)}: another running process is writing it`,
    );
  }
  await rm(part, { force: true });
  try {
    return await open(part, EXCLUSIVE, mode);
  } catch (e) {
    throw new PartFileRefused(
      `cannot create ${printable(part)} exclusively: ${(e as Error).message}`,
      { cause: e },
    );
  }
}

/**
 * Remove the `*.ibvault-part` files under `dir` (recursively, links never
 * followed) that no live process holds open: what a killed run left, with the
 * directories that held nothing else. Returns the paths removed. Other files,
 * links and parts in use are left alone.
 */
export async function removeStalePartFiles(dir: string): Promise<string[]> {
  const removed: string[] = [];
  // Returns whether it removed something from `d`.
  const walk = async (d: string, depth: number): Promise<boolean> => {
    if (depth > 64) return false;
    let entries;
    try {
      entries = await readdir(d, { withFileTypes: true });
    } catch {
      return false;
    }
    let any = false;
    for (const e of entries) {
      const p = join(d, e.name);
      if (e.isDirectory()) {
        // A directory the killed run made and that held only its part files goes too.
        if (await walk(p, depth + 1) && (await readdir(p)).length === 0) await rmdir(p);
      } else if (e.isFile() && e.name.endsWith(PART_SUFFIX) && !(await heldOpen(p))) {
        await rm(p, { force: true });
        removed.push(p);
        any = true;
      }
    }
    return any;
  };
  await walk(dir, 0);
  return removed;
}

/** Prefix of the spool directories a backup keeps beside its output (with the PID). */
export const SPOOL_PREFIX = ".ibvault-spool-";

/** The `mkdtemp` prefix of this process's spool directory in `dir`. */
export function spoolPrefix(dir: string): string {
  return join(dir, `${SPOOL_PREFIX}${process.pid}-`);
}

/** True if a process with this id runs on this host. */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as { code?: string }).code === "EPERM";
  }
}

/**
 * Remove the spool directories (`.ibvault-spool-PID-*`, see {@link spoolPrefix})
 * in `dir` whose process is gone: what a killed backup left. Returns the paths
 * removed; a live process's spool, and anything else, is left alone.
 */
export async function removeStaleSpools(dir: string): Promise<string[]> {
  const removed: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
    const m = /^\.ibvault-spool-(\d+)-/.exec(e.name);
    if (!m || !e.isDirectory() || processAlive(Number(m[1]))) continue;
    await rm(join(dir, e.name), { recursive: true, force: true });
    removed.push(join(dir, e.name));
  }
  return removed;
}
