/**
 * Starting `node:worker_threads` workers from modules under lib/, the same way
 * under Deno, in a `deno compile` binary and in a `bun build --compile` binary
 * (where modules live in a virtual file system at `/$bunfs/root/<path>` and
 * `import.meta.url` names the binary, not the module).
 */
import { Worker } from "node:worker_threads";

const ROOT = new URL("../", import.meta.url);
const BUN_ROOT = "/$bunfs/root/";

/** True inside a bun-compiled binary. */
export function inBunBinary(): boolean {
  return import.meta.url.startsWith("file:///$bunfs/") || import.meta.url.startsWith(BUN_ROOT);
}

/**
 * Start the worker module at `path`, relative to the repository root
 * (e.g. `lib/innodb/validate_worker.ts`). The compile script bundles every
 * `lib/**\/*_worker.ts` as an extra entry point, so the path resolves there too.
 */
export function startWorker(path: string, workerData?: unknown): Worker {
  if (inBunBinary()) return new Worker(BUN_ROOT + path, { workerData });
  return new Worker(new URL(path, ROOT), { workerData, resourceLimits: SMALL_YOUNG_GENERATION });
}

/**
 * Workers pass 1 MiB chunks through short-lived buffers: with V8's default young
 * generation (16 MB+) each worker holds ~100 MB of dead buffers between
 * collections under the Deno runtime. A 1 MB young generation collects them promptly: peak RSS
 * of a 2 GB image read 320 -> 203 MB, validate 340 -> 202 MB, at the same speed
 * (measured under `deno run`; bun ignores the limit and runs with --smol instead).
 */
const SMALL_YOUNG_GENERATION = { maxYoungGenerationSizeMb: 1 };
