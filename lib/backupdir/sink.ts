/**
 * A backup directory as a sink: creates the directory (refusing a non-empty one
 * unless forced), writes each entry under a temporary name and renames it when
 * complete, never writes outside the directory (paths are checked, and the
 * parent of every file is resolved to make sure no symbolic link leads out).
 */
import {
  type FileHandle,
  mkdir,
  open,
  readdir,
  realpath,
  rename,
  rm,
  stat,
} from "node:fs/promises";
import { dirname, join, relative, resolve, sep } from "node:path";
import { IoError, UsageError } from "../errors.ts";
import { checkEntryPath } from "../image/names.ts";

/** Suffix of files being written. */
export const PART_SUFFIX = ".ibvault-part";

/** Make `dir` ready to receive files: create it, or check it is empty (unless `force`). */
export async function prepareDestination(dir: string, force: boolean): Promise<string> {
  try {
    const st = await stat(dir);
    if (!st.isDirectory()) throw new UsageError(`${dir} exists and is not a directory`);
    const names = await readdir(dir);
    if (names.length > 0 && !force) {
      throw new UsageError(`${dir} is not empty (use --force to write into it anyway)`);
    }
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "ENOENT") {
      if (e instanceof UsageError) throw e;
      throw new IoError(`cannot use ${dir}: ${(e as Error).message}`);
    }
    await mkdir(dir, { recursive: true });
  }
  return await realpath(dir);
}

/** Where entry `path` goes under `root` (a real path), after checking it stays inside. */
export async function targetPath(root: string, path: string): Promise<string> {
  checkEntryPath(path, "destination");
  const target = resolve(root, ...path.split("/"));
  const parent = dirname(target);
  await mkdir(parent, { recursive: true });
  const real = await realpath(parent);
  const rel = relative(root, real);
  if (rel.startsWith("..") || rel.split(sep).includes("..") || resolve(root, rel) !== real) {
    throw new IoError(`refusing to write ${path}: its directory leads outside ${root}`);
  }
  return join(real, target.slice(parent.length + 1));
}

/**
 * Write `data` to `file` through `file + PART_SUFFIX`, renamed on success and
 * removed on failure; returns the bytes written. With `sync` (the default) the
 * data reaches the disk before the rename and the rename before this returns, so
 * after a crash `file` is either absent or complete.
 */
export async function writeAtomically(
  file: string,
  data: AsyncIterable<Uint8Array>,
  mode = 0o640,
  sync = true,
): Promise<number> {
  const part = file + PART_SUFFIX;
  const fh = await open(part, "w", mode);
  try {
    const n = await writeStream(fh, data);
    if (sync) await fh.datasync();
    await fh.close();
    await rename(part, file);
    if (sync) await syncDirectory(dirname(file));
    return n;
  } catch (e) {
    await fh.close().catch(() => {});
    await rm(part, { force: true });
    throw e;
  }
}

/** Write all of `chunk` at the file position of `fh` (a short write is continued). */
export async function writeAll(fh: FileHandle, chunk: Uint8Array): Promise<void> {
  let off = 0;
  while (off < chunk.length) {
    const { bytesWritten } = await fh.write(chunk, off, chunk.length - off);
    off += bytesWritten;
  }
}

/** Write every chunk of `data` to `fh`, in order; returns the bytes written. */
export async function writeStream(
  fh: FileHandle,
  data: AsyncIterable<Uint8Array>,
): Promise<number> {
  let n = 0;
  for await (const chunk of data) {
    await writeAll(fh, chunk);
    n += chunk.length;
  }
  return n;
}

/** Flush directory `dir` (the names in it, e.g. after a rename) to the disk. */
export async function syncDirectory(dir: string): Promise<void> {
  const fh = await open(dir, "r");
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/**
 * Flush files written earlier without `sync` (e.g. while tables were locked), and
 * their directories, to the disk.
 */
export async function syncFiles(files: Iterable<string>): Promise<void> {
  const dirs = new Set<string>();
  for (const file of files) {
    const fh = await open(file, "r");
    try {
      await fh.datasync();
    } finally {
      await fh.close();
    }
    dirs.add(dirname(file));
  }
  for (const dir of dirs) await syncDirectory(dir);
}
