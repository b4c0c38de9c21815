/**
 * Moved to `tests/fixtures/` (server.ts, context.ts, tree.ts): re-exported here
 * only so tests written against this path on branches in flight still build.
 * New tests import `tests/fixtures/` directly; remove this file once none imports it.
 */
export { contextFor, seed, startBackupServer, writable } from "./fixtures/server.ts";
export { type RecordingReporter, recordingReporter } from "./fixtures/context.ts";
export { exists, listFiles } from "./fixtures/tree.ts";
