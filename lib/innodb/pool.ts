/**
 * A pool of validation threads: the calling thread plus workers (Web Workers
 * where available, else `node:worker_threads`; one WASM instance each), so
 * `threads` of them use that many cores and `threads: 1` starts no worker.
 * Each worker holds up to {@link QUEUE} tasks, so it never waits for the
 * calling thread between two of them; a task that finds every ready worker's
 * queue full runs on the calling thread, which then yields one event-loop turn
 * so that workers' replies are taken and they get new tasks. Starting a worker
 * takes tens of milliseconds, so until a worker has raised its ready flag
 * (shared memory, so no event-loop turn is needed to see it) its share runs on
 * the calling thread too. If workers cannot be started, every task runs on the
 * calling thread.
 */
import { setImmediate } from "node:timers";
import { inBunBinary, startWorker } from "../workers.ts";
import fs from "node:fs";
import { allocPageBuffer, type PageBuffer } from "./checksum_kernels.ts";
import { checkRange } from "./page_range.ts";
import type { RangeTask, WorkerInit, WorkerReady, WorkerReply } from "./pool_protocol.ts";

/** The part of a worker the pool uses, over either worker API. */
interface Port {
  post(msg: RangeTask | WorkerInit): void;
  terminate(): Promise<unknown> | void;
}

interface Slot {
  port: Port;
  pending: Map<number, (r: WorkerReply) => void>;
  ready: boolean;
  dead: boolean;
  /** Set to 1 by the worker (Atomics) once it is ready: readable without an event-loop turn. */
  flag: Int32Array;
}

type OnMessage = (r: WorkerReply | WorkerReady) => void;
type OnError = (message: string) => void;

function webWorker(onMessage: OnMessage, onError: OnError): Port {
  const url = new URL("./validate_web_worker.ts", import.meta.url);
  const w = new Worker(url, { type: "module" });
  w.onmessage = (e: MessageEvent<WorkerReply | WorkerReady>) => onMessage(e.data);
  w.onerror = (e: ErrorEvent) => {
    e.preventDefault();
    onError(e.message);
  };
  return { post: (m) => w.postMessage(m), terminate: () => w.terminate() };
}

function nodeWorker(onMessage: OnMessage, onError: OnError): Port {
  const w = startWorker("lib/innodb/validate_worker.ts");
  w.on("message", onMessage);
  w.on("error", (err: Error) => onError(err.message));
  return { post: (m) => w.postMessage(m), terminate: () => w.terminate() };
}

/** Tasks a worker holds at once: enough work to cover the calling thread's turn. */
const QUEUE = 4;

/** One event-loop turn (timers and messages run), not just a microtask. */
const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

/** The worker pool. */
export class ValidatePool {
  #slots: Slot[] = [];
  #inline?: PageBuffer;
  #inlineRuns = 0;
  #threads: number;
  #inlineBudget: number;

  /**
   * A pool of `threads` threads, the calling one included (`threads - 1`
   * workers; 0 or 1 runs every task on the calling thread). The first
   * `inlineFirst` bytes of tasks run on the calling thread before any worker
   * starts, so a small run never pays for starting one (default 0: start them
   * now).
   */
  constructor(threads: number, inlineFirst = 0) {
    this.#threads = Math.max(0, threads - 1);
    this.#inlineBudget = inlineFirst;
    if (inlineFirst <= 0) this.#start();
  }

  #start(): void {
    const n = this.#threads;
    this.#threads = 0;
    try {
      for (let i = 0; i < n; i++) this.#slots.push(this.#spawn());
    } catch {
      for (const s of this.#slots) void s.port.terminate();
      this.#slots = [];
    }
  }

  /**
   * Tasks of about `bytes` in all are coming: start the workers now, not once
   * the calling thread's share before them is used up, if they exceed it.
   */
  expect(bytes: number): void {
    if (this.#threads > 0 && bytes > this.#inlineBudget) this.#start();
  }

  /** Number of workers (0 when running inline). */
  get size(): number {
    return this.#slots.length;
  }

  /** How many tasks a caller should keep in flight to keep every thread busy. */
  get concurrency(): number {
    return Math.max(this.#threads, this.#slots.length) * QUEUE + 1;
  }

  /** Tasks run on the calling thread so far (while no worker was ready, or without workers). */
  get inlineRuns(): number {
    return this.#inlineRuns;
  }

  /** Resolves once every worker is ready or has failed (tasks need not wait for it). */
  async whenReady(): Promise<void> {
    while (this.#slots.some((s) => !s.dead && !s.ready && Atomics.load(s.flag, 0) !== 1)) {
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }

  #spawn(): Slot {
    const flag = new Int32Array(new SharedArrayBuffer(4));
    const slot: Slot = {
      port: undefined as unknown as Port,
      pending: new Map(),
      ready: false,
      dead: false,
      flag,
    };
    const onMessage = (r: WorkerReply | WorkerReady) => {
      if ("ready" in r) {
        slot.ready = !slot.dead;
        return;
      }
      const done = slot.pending.get(r.id);
      slot.pending.delete(r.id);
      done?.(r);
    };
    const onError = (message: string) => {
      slot.dead = true;
      slot.ready = false;
      for (const [id, done] of slot.pending) done({ id, error: `worker failed: ${message}` });
      slot.pending.clear();
    };
    const web = typeof Worker === "function" && !inBunBinary();
    slot.port = web ? webWorker(onMessage, onError) : nodeWorker(onMessage, onError);
    slot.port.post({ init: flag });
    return slot;
  }

  /** Run one task and resolve with the worker's reply (or the calling thread's result). */
  run(task: RangeTask): Promise<WorkerReply> {
    if (this.#threads > 0) {
      this.#inlineBudget -= task.length;
      if (this.#inlineBudget >= 0) return Promise.resolve(this.#runInline(task));
      this.#start();
    }
    if (this.#slots.length === 0) return Promise.resolve(this.#runInline(task));
    let best: Slot | undefined;
    for (const s of this.#slots) {
      if (!s.ready && !s.dead && Atomics.load(s.flag, 0) === 1) s.ready = true;
      if (s.ready && s.pending.size < QUEUE && (!best || s.pending.size < best.pending.size)) {
        best = s;
      }
    }
    if (!best) {
      const reply = this.#runInline(task);
      return nextTurn().then(() => reply);
    }
    const slot = best;
    return new Promise((resolve) => {
      slot.pending.set(task.id, resolve);
      slot.port.post(task);
    });
  }

  #runInline(t: RangeTask): WorkerReply {
    this.#inlineRuns++;
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

  /**
   * Stop every worker. Their threads end on their own time: waiting for that
   * (~7 ms in a bun binary) would only delay the end of the run.
   */
  close(): void {
    const slots = this.#slots;
    this.#slots = [];
    for (const s of slots) void Promise.resolve(s.port.terminate()).catch(() => {});
  }
}
