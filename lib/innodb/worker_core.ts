/**
 * What a validation worker does, whichever worker API started it (see
 * validate_worker.ts for `node:worker_threads`, validate_web_worker.ts for a
 * Web Worker): it receives ranges of a tablespace file and reads each in
 * pieces small enough to stay in the CPU cache, with `fs.readSync` straight
 * into its page buffer (WASM memory), judging each piece's pages right after
 * reading it; the result goes back to the pool.
 */
import fs from "node:fs";
import { allocPageBuffer, type PageBuffer } from "./checksum_kernels.ts";
import { checkRange } from "./page_range.ts";
import type { RangeTask, WorkerInit, WorkerReady, WorkerReply } from "./pool_protocol.ts";
import { alloc, free, PAGES_CRC32, PAGES_FULL_CRC32, pagesCheckAt, view } from "../kernels/mod.ts";

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

/** Runs the page-run kernel over a few non-zero pages (so V8 starts optimising it early). */
function warmUp(): void {
  const size = 16384;
  const ptr = alloc(size);
  view(ptr, size).fill(0x5a);
  for (let i = 0; i < 24; i++) {
    pagesCheckAt(ptr, 1, size, 0x5a5a5a5a, PAGES_CRC32);
    pagesCheckAt(ptr, 1, size, 0x5a5a5a5a, PAGES_FULL_CRC32);
  }
  free(ptr);
}

/**
 * Answer one message from the pool: the init message (warm up, raise the
 * shared ready flag, reply ready), a task (reply with its result), or "close"
 * (release the file; returns false so the caller closes its port).
 */
export function onPoolMessage(
  msg: RangeTask | WorkerInit | "close",
  reply: (r: WorkerReply | WorkerReady) => void,
): boolean {
  if (msg === "close") {
    if (fd >= 0) fs.closeSync(fd);
    fd = -1;
    return false;
  }
  if ("init" in msg) {
    try {
      warmUp();
    } catch { /* no WASM: the TypeScript kernels run */ }
    Atomics.store(msg.init, 0, 1);
    reply({ ready: true });
    return true;
  }
  reply(handle(msg));
  return true;
}
