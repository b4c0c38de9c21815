/**
 * Moved to `tests/fixtures/copy_back.ts` (and `tree.ts`): re-exported here only so
 * tests written against this path on branches in flight still build. New tests
 * import `tests/fixtures/` directly; remove this file once none imports it.
 */
export { backupTo, checksum, copyBack, type CopyBackRun } from "./fixtures/copy_back.ts";
export { listFiles } from "./fixtures/tree.ts";
