/**
 * The validation worker (a `node:worker_threads` worker with its own WASM
 * kernel instance). It receives ranges of a tablespace file and reads each in
 * pieces small enough to stay in the CPU cache, with `fs.readSync` straight
 * into its page buffer (WASM memory), judging each piece's pages right after
 * reading it; the result goes back to the pool. Spawned by `pool.ts` as
 * `new Worker(new URL("./validate_worker.ts", import.meta.url))`.
 */
import { parentPort } from "node:worker_threads";
import fs from "node:fs";
import { allocPageBuffer, type PageBuffer } from "./checksum_kernels.ts";
import { checkRange } from "./page_range.ts";
import type { RangeTask, WorkerReply } from "./pool_protocol.ts";

let buf: PageBuffer | undefined;
let fdPath = "";
let fd = -1;

function handle(t: RangeTask): WorkerReply {
  try {
    buf ??= allocPageBuffer(t.pieceSize, t.kernels);
    if (fdPath !== t.path) {
      if (fd >= 0) fs.closeSync(fd);
      fd = -1;
      fd = fs.openSync(t.path, "r");
      fdPath = t.path;
    }
    const { result, bytes, short } = checkRange(fd, buf, t);
    return { id: t.id, result, bytes, short };
  } catch (err) {
    fdPath = "";
    return { id: t.id, error: err instanceof Error ? err.message : String(err) };
  }
}

parentPort?.on("message", (msg: RangeTask | "close") => {
  if (msg === "close") {
    if (fd >= 0) fs.closeSync(fd);
    fd = -1;
    parentPort?.close();
    return;
  }
  parentPort?.postMessage(handle(msg));
});
