/**
 * The timestamped backup layout (`--with-timestamp`, MySQL Enterprise Backup's):
 * each backup in `ROOT/YYYY-MM-DD_HH-MM-SS/`, named in local time as MEB does.
 * The name only orders backups for humans; the manifest's `createdAt` is the
 * authority for age.
 */
import { join } from "node:path";

const pad = (n: number, w = 2) => String(n).padStart(w, "0");

/** `YYYY-MM-DD_HH-MM-SS` of `date` in local time. */
export function timestampName(date: Date): string {
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}_` +
    `${pad(date.getHours())}-${pad(date.getMinutes())}-${pad(date.getSeconds())}`;
}

/** The directory a `--with-timestamp` backup into `root` started at `date` goes to. */
export function timestampedDir(root: string, date = new Date()): string {
  return join(root, timestampName(date));
}

/** True for a name of the `YYYY-MM-DD_HH-MM-SS` form. */
export function isTimestampName(name: string): boolean {
  return /^\d{4}-\d\d-\d\d_\d\d-\d\d-\d\d$/.test(name);
}
