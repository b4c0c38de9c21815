/**
 * A pool of validation workers (`node:worker_threads`, one WASM instance each).
 * Tasks go to the least busy worker; the caller bounds how many are in flight.
 * If workers cannot be started, tasks run on the calling thread instead.
 */
import type { Worker } from "node:worker_threads";
import { startWorker } from "../workers.ts";
import fs from "node:fs";
import { allocPageBuffer, type PageBuffer } from "./checksum_kernels.ts";
import { checkRange } from "./page_range.ts";
import type { RangeTask, WorkerReply } from "./pool_protocol.ts";

interface Slot {
  worker: Worker;
  pending: Map<number, (r: WorkerReply) => void>;
}

/** The worker pool. */
export class ValidatePool {
  #slots: Slot[] = [];
  #inline?: PageBuffer;

  /** Start `threads` workers; 0 runs every task on the calling thread. */
  constructor(threads: number) {
    try {
      for (let i = 0; i < threads; i++) this.#slots.push(this.#spawn());
    } catch {
      for (const s of this.#slots) void s.worker.terminate();
      this.#slots = [];
    }
  }

  /** Number of workers (0 when running inline). */
  get size(): number {
    return this.#slots.length;
  }

  #spawn(): Slot {
    const worker = startWorker("lib/innodb/validate_worker.ts");
    const slot: Slot = { worker, pending: new Map() };
    worker.on("message", (r: WorkerReply) => {
      const done = slot.pending.get(r.id);
      slot.pending.delete(r.id);
      done?.(r);
    });
    worker.on("error", (err: Error) => {
      for (const [id, done] of slot.pending) done({ id, error: `worker failed: ${err.message}` });
      slot.pending.clear();
    });
    return slot;
  }

  /** Run one task and resolve with the worker's reply. */
  run(task: RangeTask): Promise<WorkerReply> {
    if (this.#slots.length === 0) return Promise.resolve(this.#runInline(task));
    let best = this.#slots[0];
    for (const s of this.#slots) if (s.pending.size < best.pending.size) best = s;
    return new Promise((resolve) => {
      best.pending.set(task.id, resolve);
      best.worker.postMessage(task);
    });
  }

  #runInline(t: RangeTask): WorkerReply {
    try {
      this.#inline ??= allocPageBuffer(t.pieceSize, t.kernels);
      const fd = fs.openSync(t.path, "r");
      try {
        const { result, bytes, short } = checkRange(fd, this.#inline, t);
        return { id: t.id, result, bytes, short };
      } finally {
        fs.closeSync(fd);
      }
    } catch (err) {
      return { id: t.id, error: err instanceof Error ? err.message : String(err) };
    }
  }

  /** Stop every worker. */
  async close(): Promise<void> {
    const slots = this.#slots;
    this.#slots = [];
    await Promise.all(slots.map((s) => s.worker.terminate()));
  }
}
