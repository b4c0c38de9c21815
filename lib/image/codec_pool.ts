/**
 * A pool of codec workers (`codec_worker.ts`, one `node:worker_threads` thread
 * each) that encode or decode records. Callers keep results in order by awaiting
 * the promises in submission order; the number of pending jobs is bounded by the
 * caller, which is what bounds memory. `threads: 0` runs the codec in this thread.
 * Workers start with the first job, so a run that fails before any (a damaged
 * image header or manifest) never pays for their threads.
 */
import type { Worker } from "node:worker_threads";
import { startWorker } from "../workers.ts";
import { CorruptionError, IbvaultError, KeyError } from "../errors.ts";
import {
  type CodecKeys,
  type Compression,
  type DecodeMode,
  decodeRecord,
  encodeRecord,
  importCodecKeys,
} from "./chunk_codec.ts";
import type { RecordHeader } from "./format.ts";
import { BufferPool } from "./buffers.ts";

/** What each worker starts with. */
export interface CodecWorkerData {
  compress: Compression;
  enc?: Uint8Array;
  mac?: Uint8Array;
}

/**
 * A job posted to a worker. Bytes travel as whole, transferred ArrayBuffers: Deno's
 * `node:worker_threads` copies typed-array views very slowly (~2 MB/s), ArrayBuffers fast.
 * `len` is how many bytes from the start of `data` are the input (buffers are
 * recycled, so they may be larger); `out`, when given, is a spare buffer the
 * worker may build the encoded record, or decompress a payload, in.
 */
export type CodecJob =
  | {
    id: number;
    op: "encode";
    rec: { type: number; entry: number; chunk: number };
    data: ArrayBuffer;
    len: number;
    out?: ArrayBuffer;
  }
  | {
    id: number;
    op: "decode";
    rec: RecordHeader;
    data: ArrayBuffer;
    len: number;
    mode: DecodeMode;
    out?: ArrayBuffer;
  };

/**
 * A worker's answer: the result is the first `len` bytes of `data`; `spare`
 * gives the job's input buffer (and an unused `out`) back for reuse.
 */
export type CodecReply =
  | {
    id: number;
    ok: true;
    data: ArrayBuffer;
    len: number;
    compressed: boolean;
    zstd: boolean;
    rawCrc: number;
    spare: ArrayBuffer[];
  }
  | { id: number; ok: false; errorName: string; message: string; spare: ArrayBuffer[] };

/** A finished job. */
export interface CodecResult {
  data: Uint8Array;
  compressed: boolean;
  /** `data` is a zstd frame ("keep-compressed" mode). */
  zstd: boolean;
  rawCrc: number;
}

function revive(name: string, message: string): Error {
  if (name === "CorruptionError") return new CorruptionError(message);
  if (name === "KeyError") return new KeyError(message);
  const e = name === "IbvaultError" ? new IbvaultError(message) : new Error(message);
  return e;
}

/** Encodes and decodes records on worker threads. */
export class CodecPool {
  #workers: Worker[] = [];
  #pending = new Map<number, { resolve: (r: CodecResult) => void; reject: (e: Error) => void }>();
  #load: number[] = [];
  #owner = new Map<number, number>();
  #nextId = 0;
  #inline?: Promise<CodecKeys | undefined>;
  #init: CodecWorkerData;
  #failed?: Error;
  #threads = 0;
  /** Buffers given back by the workers (job inputs, unused outputs), for reuse. */
  readonly buffers: BufferPool = new BufferPool(16);

  /** A pool of `threads` workers, started on first use (0: encode/decode on this thread). */
  constructor(threads: number, init: CodecWorkerData) {
    this.#init = init;
    if (threads <= 0) {
      this.#inline = init.enc && init.mac
        ? importCodecKeys(init.enc, init.mac)
        : Promise.resolve(undefined);
      return;
    }
    this.#threads = threads;
  }

  /** How many threads do the work (0 when inline). */
  get threads(): number {
    return this.#threads;
  }

  /** How many worker threads are running (none before the first job). */
  get running(): number {
    return this.#workers.length;
  }

  #start(): void {
    for (let i = 0; i < this.#threads; i++) {
      const w = startWorker("lib/image/codec_worker.ts", this.#init);
      w.on("message", (m: CodecReply) => this.#onReply(i, m));
      w.on("error", (e: Error) => this.#fail(e));
      this.#workers.push(w);
      this.#load.push(0);
    }
  }

  #onReply(worker: number, m: CodecReply) {
    const p = this.#pending.get(m.id);
    if (!p) return;
    this.#pending.delete(m.id);
    this.#load[worker]--;
    for (const b of m.spare ?? []) this.buffers.give(b);
    if (m.ok) {
      p.resolve({
        data: new Uint8Array(m.data, 0, m.len),
        compressed: m.compressed,
        zstd: m.zstd,
        rawCrc: m.rawCrc,
      });
    } else p.reject(revive(m.errorName, m.message));
  }

  #fail(e: Error) {
    this.#failed = e;
    for (const p of this.#pending.values()) p.reject(e);
    this.#pending.clear();
  }

  /**
   * Send `job` with `input` (its buffer transferred, or a copy's) and the spare
   * buffer `out` (transferred too, unless it is the input's own) to the least
   * busy worker.
   */
  #post(
    job:
      | Pick<Extract<CodecJob, { op: "encode" }>, "op" | "rec">
      | Pick<Extract<CodecJob, { op: "decode" }>, "op" | "rec" | "mode">,
    input: Uint8Array,
    out: ArrayBuffer | undefined,
  ): Promise<CodecResult> {
    if (this.#failed) return Promise.reject(this.#failed);
    if (this.#workers.length === 0) this.#start();
    const data = leadingBuffer(input);
    const spare = out && out !== data ? out : undefined;
    const full = { ...job, id: this.#nextId++, data, len: input.length, out: spare } as CodecJob;
    const transfer = spare ? [data, spare] : [data];
    let best = 0;
    for (let i = 1; i < this.#load.length; i++) if (this.#load[i] < this.#load[best]) best = i;
    this.#load[best]++;
    return new Promise((resolve, reject) => {
      this.#pending.set(full.id, { resolve, reject });
      this.#workers[best].postMessage(full, transfer);
    });
  }

  /**
   * Encode a record; `data` (a view from the start of its buffer, or any view,
   * which is then copied) is transferred: do not use it afterwards. `out` is a
   * spare buffer (e.g. a record already written) the worker may build the record
   * in; it is transferred too. Input and unused output come back in `buffers`.
   */
  async encode(
    rec: { type: number; entry: number; chunk: number },
    data: Uint8Array,
    out?: ArrayBuffer,
  ): Promise<CodecResult> {
    if (this.#inline) {
      const r = await encodeRecord(rec, data, this.#init.compress, await this.#inline);
      return { data: r.record, compressed: false, zstd: false, rawCrc: r.rawCrc };
    }
    return this.#post({ op: "encode", rec }, data, out);
  }

  /**
   * Decode a whole record (header + stored bytes); `record` is transferred (its
   * buffer comes back in `buffers` once decoded), and so is `out`, a spare buffer
   * (e.g. a chunk already consumed) the worker may decompress into.
   */
  async decode(
    rec: RecordHeader,
    record: Uint8Array,
    mode: DecodeMode,
    out?: ArrayBuffer,
  ): Promise<CodecResult> {
    if (this.#inline) return decodeRecord(record, rec, mode, await this.#inline);
    return this.#post({ op: "decode", rec, mode }, record, out);
  }

  /** Stop the workers (a closed pool takes no more jobs). */
  async close(): Promise<void> {
    const ws = this.#workers;
    this.#workers = [];
    this.#failed ??= new Error("codec pool closed");
    await Promise.all(ws.map((w) => w.terminate()));
  }
}

/**
 * An ArrayBuffer whose first `data.length` bytes are `data`: its own when `data`
 * starts at offset 0 of a plain ArrayBuffer, else a copy's.
 */
export function leadingBuffer(data: Uint8Array): ArrayBuffer {
  return data.byteOffset === 0 && data.buffer instanceof ArrayBuffer
    ? data.buffer
    : (data.slice().buffer as ArrayBuffer);
}

/** The ArrayBuffer holding exactly `data` (its own if it spans it whole, else a copy's). */
export function ownedBuffer(data: Uint8Array): ArrayBuffer {
  return data.byteOffset === 0 && data.byteLength === data.buffer.byteLength &&
      data.buffer instanceof ArrayBuffer
    ? data.buffer
    : (data.slice().buffer as ArrayBuffer);
}
