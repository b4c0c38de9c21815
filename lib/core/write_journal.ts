/**
 * The journal of a run writing into a directory (`ibvault_incomplete`): it names
 * every file the run creates, before the file is created, and the run holds it
 * open until it is done. A run that fails or is interrupted removes what it
 * created, then the journal; a run that is killed (SIGKILL, a crash) leaves the
 * journal, whose name says the directory is incomplete, and the next run into
 * the same directory ({@link recoverIncomplete}) removes the files it names, so
 * the re-run does not fail with "is not empty". Files that were there before the
 * run (`--force`) are never touched.
 *
 * The journal is untrusted input (anyone who can write the directory can plant
 * one): it is size-bounded, only safe relative entry paths are used, each is
 * resolved inside the directory without following a link, and only regular
 * files (and their part files) are removed, then the directories left empty.
 */
import { constants } from "node:fs";
import process from "node:process";
import { type FileHandle, lstat, open, readFile, realpath, rm, rmdir } from "node:fs/promises";
import { dirname, join, relative, resolve, sep } from "node:path";
import { IoError, UsageError } from "../errors.ts";
import { printable } from "../names/printable.ts";
import { entryPathProblem } from "./entry_path.ts";
import { MANIFEST_FILE } from "./manifest.ts";
import { heldOpen, PART_SUFFIX } from "./part_files.ts";
import { outputError } from "./files.ts";

/** Name of the journal in the directory being written: present means incomplete. */
export const JOURNAL_FILE = "ibvault_incomplete";

/** Largest journal read back (a path per line: far more files than any backup holds). */
const MAX_JOURNAL = 16 << 20;

const EXCLUSIVE = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL |
  constants.O_APPEND | (constants.O_NOFOLLOW ?? 0);

const HEADER = "# ibvault: this directory is incomplete: a run writing it did not finish.\n" +
  "# The next ibvault run into it removes the files listed below (one JSON string a line).\n";

/** The files one run creates in a directory; see the module documentation. */
export class WriteJournal {
  readonly #paths: string[] = [];
  #done = false;

  private constructor(readonly root: string, readonly file: string, readonly fh: FileHandle) {}

  /**
   * Start the journal of a run writing into `root` (a real path), exclusively and
   * never through a link. A journal already there (a live run's, or a link) is an
   * IoError: {@link recoverIncomplete} deals with a dead run's first.
   */
  static async start(root: string): Promise<WriteJournal> {
    const file = join(root, JOURNAL_FILE);
    let fh: FileHandle;
    try {
      fh = await open(file, EXCLUSIVE, 0o640);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code !== "EEXIST" && code !== "ELOOP") {
        throw outputError(e, `creating ${printable(file)}`);
      }
      throw new IoError(
        `cannot write into ${printable(root)}: ${JOURNAL_FILE} is already there ` +
          "(another ibvault run is writing this directory?)",
        { cause: e },
      );
    }
    try {
      await fh.write(`${HEADER}# pid ${process.pid}, started ${new Date().toISOString()}\n`);
    } catch (e) {
      await fh.close().catch(() => {});
      await rm(file, { force: true });
      throw outputError(e, `writing ${printable(file)}`);
    }
    return new WriteJournal(root, file, fh);
  }

  /** Record `file` (a path under the root) before it is created. */
  async add(file: string): Promise<void> {
    const rel = relative(this.root, file).split(sep).join("/");
    this.#paths.push(rel);
    await this.fh.write(JSON.stringify(rel) + "\n").catch((e) => {
      throw outputError(e, `writing ${printable(this.file)}`);
    });
  }

  /** The run failed: remove what it created and the journal; returns the paths removed. */
  async discard(): Promise<string[]> {
    if (this.#done) return [];
    this.#done = true;
    await this.fh.close().catch(() => {});
    const removed = await removeListed(this.root, this.#paths);
    await rm(this.file, { force: true });
    return removed;
  }

  /** The run completed (its manifest is written): remove the journal. */
  async finish(): Promise<void> {
    if (this.#done) return;
    this.#done = true;
    await this.fh.close();
    await rm(this.file, { force: true });
  }
}

/**
 * Before a run writes into `root`: if a killed run's journal is there, remove the
 * files it names (each told to `onRemoved`) and the journal. A journal a live
 * process holds open is a UsageError (another run is writing there); a journal
 * beside a manifest belongs to a run that completed it, and is only removed.
 */
export async function recoverIncomplete(
  root: string,
  onRemoved?: (path: string) => void,
): Promise<void> {
  const file = join(root, JOURNAL_FILE);
  const st = await lstat(file).catch(() => undefined);
  if (!st) return;
  if (!st.isFile()) {
    throw new UsageError(
      `${printable(file)} is not a file (a link?): remove it, then run again`,
    );
  }
  if (await heldOpen(file)) {
    throw new UsageError(
      `another ibvault run is writing ${printable(root)} (it holds ${JOURNAL_FILE} open): ` +
        "wait for it to end, or write somewhere else",
    );
  }
  if (!(await lstat(join(root, MANIFEST_FILE)).catch(() => undefined))) {
    if (st.size > MAX_JOURNAL) {
      throw new UsageError(
        `${printable(file)} is larger than ${MAX_JOURNAL} bytes, which no ibvault run ` +
          `writes: check ${printable(root)} and remove it by hand`,
      );
    }
    const paths: string[] = [];
    for (const line of (await readFile(file, "utf8")).split("\n")) {
      if (line === "" || line.startsWith("#")) continue;
      try {
        const p = JSON.parse(line);
        if (typeof p === "string") paths.push(p);
      } catch {
        // a line cut short by the kill: the file it names was not created yet
      }
    }
    for (const p of await removeListed(root, paths)) onRemoved?.(p);
  }
  await rm(file, { force: true });
}

/**
 * Remove the regular files at `paths` (entry paths under `root`) and their part
 * files, never through a link nor outside `root`, then the directories they
 * leave empty; returns the files removed.
 */
async function removeListed(root: string, paths: readonly string[]): Promise<string[]> {
  const removed: string[] = [];
  const dirs = new Set<string>();
  for (const p of [...paths].reverse()) {
    if (entryPathProblem(p) !== undefined) continue;
    const target = resolve(root, ...p.split("/"));
    const parent = dirname(target);
    // The directory must be the one named, inside root, reached through no link.
    const real = await realpath(parent).catch(() => undefined);
    if (real !== parent || (parent !== root && !parent.startsWith(root + sep))) continue;
    for (const f of [target, target + PART_SUFFIX]) {
      const st = await lstat(f).catch(() => undefined);
      if (!st?.isFile()) continue;
      await rm(f, { force: true });
      removed.push(f);
    }
    for (let d = parent; d !== root && d.startsWith(root + sep); d = dirname(d)) dirs.add(d);
  }
  // Deepest first; a directory that still holds something stays.
  for (const d of [...dirs].sort((a, b) => b.length - a.length)) {
    await rmdir(d).catch(() => {});
  }
  return removed;
}

/**
 * For a message about `dir` having no manifest: why, when a killed run's journal
 * is there ("" otherwise).
 */
export async function incompleteNote(dir: string): Promise<string> {
  const st = await lstat(join(dir, JOURNAL_FILE)).catch(() => undefined);
  return st?.isFile()
    ? `; its ${JOURNAL_FILE} says a run writing it did not finish (killed?): run it again ` +
      "into the same directory, which removes what that run left"
    : "";
}
