/**
 * The validation worker as a `node:worker_threads` worker (used where Web
 * Workers are not, e.g. in a bun-compiled binary); the work itself is in
 * worker_core.ts. Spawned by `pool.ts` through `startWorker`.
 */
import { parentPort } from "node:worker_threads";
import { onPoolMessage } from "./worker_core.ts";
import type { RangeTask, WorkerInit } from "./pool_protocol.ts";

parentPort?.on("message", (msg: RangeTask | WorkerInit | "close") => {
  if (!onPoolMessage(msg, (r) => parentPort?.postMessage(r))) parentPort?.close();
});
