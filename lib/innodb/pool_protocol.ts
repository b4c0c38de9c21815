/** Messages between the validation pool and its workers. */
import type { ChecksumAlgorithm } from "./algorithm.ts";
import type { SpaceInfo } from "./flags.ts";

/** One corrupt page and why. */
export interface CorruptPage {
  page: number;
  reason: string;
}

/** What checking a range found. */
export interface RangeResult {
  /** Pages judged. */
  pages: number;
  /** Pages not judged (doublewrite buffer copies). */
  skipped: number;
  corrupt: CorruptPage[];
  /** Count of valid pages per flavour, indexed like FLAVOURS. */
  flavours: number[];
}

/** Check `length` bytes of `path` from `offset`, whose first page is `firstPage`. */
export interface RangeTask {
  id: number;
  path: string;
  offset: number;
  length: number;
  firstPage: number;
  space: SpaceInfo;
  algo: ChecksumAlgorithm;
  maxCorrupt: number;
  kernels: "auto" | "ts";
  /** Bytes read and judged at a time (cache-sized; a multiple of every page size). */
  pieceSize: number;
}

/** A worker's answer to one {@link RangeTask}. */
export type WorkerReply =
  | { id: number; result: RangeResult; bytes: number; short: boolean; error?: undefined }
  | { id: number; error: string };

/** First message to a worker: a shared flag it sets to 1 (Atomics) once ready. */
export interface WorkerInit {
  init: Int32Array;
}

/** Sent once by a worker, after the init message, when it is loaded and warmed up. */
export interface WorkerReady {
  ready: true;
}
