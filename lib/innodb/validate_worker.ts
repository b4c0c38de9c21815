/**
 * The validation worker (a `node:worker_threads` worker with its own WASM
 * kernel instance). It receives ranges of a tablespace file, reads each with
 * one `fs.readSync` straight into its page buffer (WASM memory), judges the
 * pages and posts the result back. Spawned by `pool.ts` as
 * `new Worker(new URL("./validate_worker.ts", import.meta.url))`.
 */
import { parentPort } from "node:worker_threads";
import fs from "node:fs";
import { allocPageBuffer, type PageBuffer } from "./checksum_kernels.ts";
import { checkPages } from "./page_range.ts";
import type { RangeTask, WorkerReply } from "./pool_protocol.ts";

let buf: PageBuffer | undefined;
let fdPath = "";
let fd = -1;

function handle(t: RangeTask): WorkerReply {
  try {
    if (!buf || buf.length < t.length) {
      buf = allocPageBuffer(Math.max(t.length, 1 << 20), t.kernels);
    }
    if (fdPath !== t.path) {
      if (fd >= 0) fs.closeSync(fd);
      fd = -1;
      fd = fs.openSync(t.path, "r");
      fdPath = t.path;
    }
    const bytes = buf.bytes;
    let got = 0;
    while (got < t.length) {
      const n = fs.readSync(fd, bytes, got, t.length - got, t.offset + got);
      if (n === 0) break;
      got += n;
    }
    const pages = Math.floor(got / t.space.physicalSize);
    const result = checkPages(buf, 0, pages, t.firstPage, t.space, t.algo, t.maxCorrupt);
    return { id: t.id, result, bytes: got, short: got < t.length };
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
