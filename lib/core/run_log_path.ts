/**
 * Where run logs sit inside a backup directory: `meta/ibvault_<command>_<stamp>.log`
 * (MEB keeps its logs under `meta/`). Readers of a backup directory leave these
 * files out: they are not part of the backup. No table file can have such a
 * name (MySQL's filename encoding turns a `.` in a table name into `@002e`).
 */

/** The directory of a backup that holds its run logs. */
export const RUN_LOG_DIR = "meta";

/** Whether a backup-relative `/`-separated path is one of ibvault's run logs. */
export function isRunLogPath(rel: string): boolean {
  return /^meta\/ibvault_[^/]+\.log$/.test(rel);
}
