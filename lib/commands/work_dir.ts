/**
 * MySQL Enterprise Backup's working directory of image commands: `--backup-dir`
 * given together with `--backup-image` (backup-to-image, copy-back, validate,
 * list-image, extract, image-to-backup-dir, apply-log). ibvault puts its temporary
 * files and spools there, and its run log under `meta/` (MEB keeps its own logs
 * there too). It is never refused and never read as a second source.
 */
import { mkdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import type { Options } from "./options.ts";
import { IoError } from "../errors.ts";
import { printable } from "../names/printable.ts";

/** The working directory of an image command (`--backup-dir` beside `--backup-image`), or undefined. */
export function imageWorkDir(o: Pick<Options, "backupDir" | "backupImage">): string | undefined {
  return o.backupImage !== undefined ? o.backupDir : undefined;
}

/** Where an image command's temporary files go: its working directory, else the system's. */
export function tempDirOf(o: Pick<Options, "backupDir" | "backupImage">): string {
  return imageWorkDir(o) ?? tmpdir();
}

/** Make `dir` (and its parents) if missing; an IoError naming it when that fails. */
export async function prepareWorkDir(dir: string): Promise<string> {
  try {
    await mkdir(dir, { recursive: true, mode: 0o750 });
  } catch (e) {
    throw new IoError(
      `cannot create the working directory --backup-dir=${printable(dir)} ` +
        `(${(e as NodeJS.ErrnoException).code ?? e})`,
    );
  }
  return dir;
}
