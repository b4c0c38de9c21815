/**
 * The validation worker as a Web Worker (preferred: under Deno its
 * constructor blocks the spawning thread far less than `node:worker_threads`,
 * and module loading then overlaps work on the calling thread); the work
 * itself is in worker_core.ts. Spawned by `pool.ts`.
 */
import { onPoolMessage } from "./worker_core.ts";
import type { RangeTask, WorkerInit } from "./pool_protocol.ts";

const scope = globalThis as unknown as {
  onmessage: ((e: MessageEvent) => void) | null;
  postMessage(msg: unknown): void;
  close(): void;
};
scope.onmessage = (e: MessageEvent<RangeTask | WorkerInit | "close">) => {
  if (!onPoolMessage(e.data, (r) => scope.postMessage(r))) scope.close();
};
