/**
 * List the regular files under a directory as sorted `/`-separated relative paths
 * (symbolic links and special files are reported, not followed).
 */
import { lstat, readdir } from "node:fs/promises";
import { join } from "node:path";
import { ioFailure } from "../core/files.ts";
import { printable } from "../names/printable.ts";

/** A file found by {@link walkFiles}. */
export interface FoundFile {
  path: string;
  size: number;
  mode: number;
}

/**
 * Every regular file under `root`, sorted by path; `skip(rel)` leaves names out.
 * A directory that cannot be read is an IoError naming it and why ("cannot read
 * backup directory /x: it does not exist"); `what` is what `root` is called.
 */
export async function walkFiles(
  root: string,
  opts: {
    skip?: (rel: string) => boolean;
    onOther?: (rel: string) => void;
    what?: string;
  } = {},
): Promise<FoundFile[]> {
  const out: FoundFile[] = [];
  async function visit(rel: string) {
    const dir = rel ? join(root, rel) : root;
    const names = (await readdir(dir).catch((e) => {
      throw ioFailure(e, `read ${rel ? "directory" : opts.what ?? "directory"} ${printable(dir)}`);
    })).sort();
    for (const n of names) {
      const r = rel ? `${rel}/${n}` : n;
      if (opts.skip?.(r)) continue;
      const st = await lstat(join(root, r)).catch((e) => {
        throw ioFailure(e, `read ${printable(join(root, r))}`);
      });
      if (st.isDirectory()) await visit(r);
      else if (st.isFile()) out.push({ path: r, size: st.size, mode: st.mode & 0o7777 });
      else opts.onOther?.(r);
    }
  }
  await visit("");
  out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return out;
}
