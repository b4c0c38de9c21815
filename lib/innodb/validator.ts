/**
 * The validation engine over files on disk: each file's head (page 0 and, for
 * small files, everything) is read on the calling thread to learn its page
 * size and format and judged there; the rest of a larger file is cut into
 * blocks that the worker pool reads straight into WASM memory and judges.
 * Memory stays bounded: workers read their blocks into their own page buffer, files are
 * taken from the input lazily and each file's report is handed on when done.
 * A file that cannot be read, is empty or too short becomes an error record;
 * the run goes on with the next file.
 */
import fs from "node:fs";
import { type ChecksumAlgorithm, parseAlgorithm } from "./algorithm.ts";
import { describeSpace, type SpaceInfo, spaceInfoFromPage0 } from "./flags.ts";
import { UNIV_ZIP_SIZE_MIN } from "./layout.ts";
import { checkPages, emptyRange, mergeRange, type RangeResult } from "./page_range.ts";
import { allocPageBuffer, type PageBuffer } from "./checksum_kernels.ts";
import { ValidatePool } from "./pool.ts";
import type { RangeTask } from "./pool_protocol.ts";
import { errorReport, type FileReport, validReport } from "./report.ts";
import type { KeyFinder } from "./key_source.ts";
import { F_ENCRYPTED_UNVERIFIED, FLAVOURS } from "./verdict.ts";

/** A file to validate. */
export interface ValidateInput {
  /** Where to open it. */
  path: string;
  /** Name shown in reports. */
  name: string;
  /** Unicode table name shown beside it. */
  table?: string;
}

/** Engine settings. */
export interface EngineOptions {
  /** Threads that check pages, the calling one included (default 1: it alone). */
  threads?: number;
  algorithm?: ChecksumAlgorithm;
  /** Stop a file after this many corrupt pages (default 64). */
  threshold?: number;
  signal?: AbortSignal;
  /** Called as blocks complete with bytes done and bytes to do. */
  onProgress?: (done: number, total: number) => void;
  /** "ts" forces the TypeScript kernels (tests). */
  kernels?: "auto" | "ts";
  /** Bytes per task sent to a worker (default 8 MiB). */
  blockSize?: number;
  /** Bytes read and judged at a time inside a task (default 1 MiB, about L2-sized). */
  pieceSize?: number;
  /** Finds MySQL tablespace keys (see key_source.ts); without one, encrypted pages are not verified. */
  keys?: KeyFinder;
}

interface Prepared {
  index: number;
  input: ValidateInput;
  report: FileReport;
  space?: SpaceInfo;
  result: RangeResult;
  stopped: boolean;
  /** Bytes from here on go to the workers (the head was judged on the calling thread). */
  rest: number;
  /** Tasks sent and not yet answered. */
  pending: number;
  /** All of the file's tasks have been made. */
  queued: boolean;
}

/** Files up to this size are read once and judged on the calling thread (no worker round trip). */
const SMALL = 256 << 10;
/**
 * Bytes judged on the calling thread before workers start: starting one costs
 * tens of milliseconds, as long as these take, so small runs never start one.
 */
const INLINE_FIRST = 16 << 20;

/**
 * Open a file, read its head (up to {@link SMALL} bytes, straight into `buf`),
 * learn the space from page 0 and judge the pages the head holds. The rest of
 * the file, if any, is left to range tasks.
 */
function prepare(
  index: number,
  input: ValidateInput,
  buf: PageBuffer,
  algo: ChecksumAlgorithm,
  threshold: number,
  keys?: KeyFinder,
): Prepared {
  const result = emptyRange();
  const fail = (msg: string, bytes = 0): Prepared => ({
    index,
    input,
    report: errorReport(input, msg, bytes),
    result,
    stopped: true,
    rest: 0,
    pending: 0,
    queued: true,
  });
  let fd = -1;
  try {
    // stat before open: opening a FIFO would block until a writer appears.
    const pre = fs.statSync(input.path);
    if (pre.isDirectory()) return fail("is a directory, not a file");
    if (!pre.isFile()) return fail("not a regular file (FIFO, socket or device)");
    fd = fs.openSync(input.path, "r");
    const st = fs.fstatSync(fd);
    if (!st.isFile()) return fail("not a regular file");
    const size = st.size;
    if (size === 0) return fail("empty file (0 bytes): not an InnoDB tablespace");
    if (size < UNIV_ZIP_SIZE_MIN) {
      return fail(`file too small (${size} bytes): not an InnoDB tablespace`, size);
    }
    const want = Math.min(size, buf.length);
    let got = 0;
    while (got < want) {
      const n = fs.readSync(fd, buf.bytes, got, want - got, got);
      if (n === 0) break;
      got += n;
    }
    if (got < want) return fail("file shrank while being read", size);
    let space: SpaceInfo;
    try {
      space = spaceInfoFromPage0(buf.bytes.subarray(0, got));
    } catch (err) {
      return fail(`page 0 has invalid tablespace flags: ${(err as Error).message}`, size);
    }
    if (size < space.physicalSize) {
      return fail(`file too small (${size} bytes) for one ${space.physicalSize}-byte page`, size);
    }
    let keyProblem: string | undefined;
    if (space.mysqlEncryption && keys) {
      const k = keys(input.path, buf.bytes.subarray(0, space.physicalSize), space);
      if (typeof k === "string") keyProblem = k;
      else if (k) space.key = k;
    }
    const ps = space.physicalSize;
    const whole = size - (size % ps);
    const head = Math.min(whole, got - (got % ps));
    checkPages(buf, 0, head / ps, 0, space, algo, threshold, result);
    const report = validReport(input, size, describeSpace(space), space);
    const rest = size % space.physicalSize;
    if (rest) report.truncatedBytes = rest;
    if (keyProblem) report.keyProblem = keyProblem;
    const stopped = result.corrupt.length >= threshold;
    return {
      index,
      input,
      report,
      space,
      result,
      stopped,
      rest: stopped ? whole : head,
      pending: 0,
      queued: false,
    };
  } catch (err) {
    return fail(ioMessage(err));
  } finally {
    if (fd >= 0) fs.closeSync(fd);
  }
}

/** A short message for a file-system error (`ENOENT: no such file or directory`). */
export function ioMessage(err: unknown): string {
  const e = err as { code?: string; message?: string };
  if (e?.code === "ENOENT") return "no such file (or a dangling link)";
  if (e?.code === "EACCES" || e?.code === "EPERM") return "permission denied";
  if (e?.code === "EISDIR") return "is a directory, not a file";
  return e?.message ?? String(err);
}

/** Fill the final fields of a file report from its merged range result. */
export function finishReport(
  report: FileReport,
  result: RangeResult,
  threshold: number,
  stopped: boolean,
): FileReport {
  if (report.status === "error") return report;
  result.corrupt.sort((a, b) => a.page - b.page);
  if (report.truncatedBytes) {
    const page = Math.floor(report.bytes / (report.physicalPageSize ?? 1));
    result.corrupt.push({
      page,
      reason: `truncated: last ${report.truncatedBytes} bytes are not a whole page`,
    });
  }
  const corrupt = result.corrupt.slice(0, threshold);
  report.pages = result.pages;
  report.skippedPages = result.skipped;
  report.corrupt = corrupt;
  report.corruptPages = corrupt.length;
  report.atLeast = stopped || result.corrupt.length > threshold;
  report.status = corrupt.length ? "corrupt" : "valid";
  let best = -1;
  for (let i = 0; i < FLAVOURS.length; i++) {
    if (result.flavours[i]) report.flavours[FLAVOURS[i]] = result.flavours[i];
    if (i > 0 && result.flavours[i] && (best < 0 || result.flavours[i] > result.flavours[best])) {
      best = i;
    }
  }
  if (best >= 0) report.flavour = FLAVOURS[best];
  const encrypted = result.flavours[F_ENCRYPTED_UNVERIFIED];
  if (encrypted) report.encryptedNotVerified = encrypted;
  return report;
}

/** Validate files on disk; one report per input, in input order. */
export async function validateFiles(
  inputs: ValidateInput[],
  opts: EngineOptions = {},
): Promise<FileReport[]> {
  const out: FileReport[] = new Array(inputs.length);
  await validateEach(inputs, opts, (r, i) => void (out[i] = r));
  return out;
}

/**
 * Validate files on disk one after another, handing each file's report to
 * `onReport` (with the file's position in `inputs`) as soon as it is complete,
 * in completion order; nothing about a file is kept after that, so memory stays
 * flat however many files there are. Small files are read once and judged on
 * the calling thread; larger ones are cut into blocks for the worker pool, which
 * is started only when the first such block appears. `inputs` is iterated
 * lazily, at most a few files ahead of the work.
 */
export async function validateEach(
  inputs: Iterable<ValidateInput>,
  opts: EngineOptions,
  onReport: (report: FileReport, index: number) => void,
): Promise<void> {
  const algo = opts.algorithm ?? parseAlgorithm();
  const threshold = Math.max(1, opts.threshold ?? 64);
  const block = opts.blockSize ?? 8 << 20;
  const threads = opts.threads ?? 1;
  const head = allocPageBuffer(SMALL, opts.kernels ?? "auto");
  let pool: ValidatePool | undefined;
  let done = 0;
  let seen = 0;
  let id = 0;
  const finish = (file: Prepared) => {
    onReport(
      finishReport(
        file.report,
        file.result,
        threshold,
        file.stopped && file.report.status !== "error",
      ),
      file.index,
    );
  };
  /** The next range task, preparing (and finishing small) files as needed. */
  const source = (function* (): Generator<{ file: Prepared; task: RangeTask }> {
    let index = 0;
    for (const input of inputs) {
      const file = prepare(index++, input, head, algo, threshold, opts.keys);
      seen += file.report.bytes;
      done += file.rest;
      opts.onProgress?.(done, seen);
      if (!file.space || file.stopped) {
        finish(file);
        continue;
      }
      const ps = file.space.physicalSize;
      const whole = file.report.bytes - (file.report.bytes % ps);
      const step = Math.max(ps, block - (block % ps));
      for (let off = file.rest; off < whole; off += step) {
        if (file.stopped) break;
        file.pending++;
        yield {
          file,
          task: {
            id: id++,
            path: file.input.path,
            offset: off,
            length: Math.min(step, whole - off),
            firstPage: off / ps,
            space: file.space,
            algo,
            maxCorrupt: threshold,
            kernels: opts.kernels ?? "auto",
            pieceSize: opts.pieceSize ?? 1 << 20,
          },
        };
      }
      file.queued = true;
      if (file.pending === 0) finish(file);
    }
  })();
  try {
    // Small files are done inside the generator: no pool unless a range task appears.
    let first: IteratorResult<{ file: Prepared; task: RangeTask }> | undefined = source.next();
    if (first.done) return;
    pool = new ValidatePool(threads, INLINE_FIRST);
    // A first file larger than the calling thread's share starts the workers at once.
    pool.expect(first.value.file.report.bytes - first.value.task.offset);
    const depth = pool.concurrency;
    const runOne = async (): Promise<void> => {
      for (;;) {
        if (opts.signal?.aborted) throw opts.signal.reason ?? new Error("aborted");
        const next = first ?? source.next();
        first = undefined;
        if (next.done) return;
        const { file, task } = next.value;
        const reply = file.stopped ? undefined : await pool!.run(task);
        file.pending--;
        done += task.length;
        opts.onProgress?.(done, seen);
        if (reply && !file.stopped) {
          if (reply.error !== undefined) {
            file.stopped = true;
            file.report = errorReport(file.input, `read failed: ${reply.error}`, file.report.bytes);
          } else {
            mergeRange(file.result, reply.result);
            if (reply.short) {
              file.stopped = true;
              file.report = errorReport(
                file.input,
                "file shrank while being read",
                file.report.bytes,
              );
            } else if (file.result.corrupt.length >= threshold) {
              file.stopped = true;
              file.result.corrupt.sort((a, b) => a.page - b.page);
            }
          }
        }
        if (file.queued && file.pending === 0) finish(file);
      }
    };
    await Promise.all(Array.from({ length: depth }, runOne));
  } finally {
    source.return(undefined);
    pool?.close();
  }
}
