/**
 * The validation engine over files on disk: each file's page 0 is read on the
 * calling thread to learn its page size and format, then the file is cut into
 * large blocks that the worker pool reads straight into WASM memory and
 * judges. Memory stays bounded: at most two blocks per worker are in flight.
 * A file that cannot be read, is empty or too short becomes an error record;
 * the run goes on with the next file.
 */
import fs from "node:fs";
import { type ChecksumAlgorithm, parseAlgorithm } from "./algorithm.ts";
import { describeSpace, type SpaceInfo, spaceInfoFromPage0 } from "./flags.ts";
import { UNIV_PAGE_SIZE_MAX, UNIV_ZIP_SIZE_MIN } from "./layout.ts";
import { emptyRange, mergeRange, type RangeResult } from "./page_range.ts";
import { ValidatePool } from "./pool.ts";
import type { RangeTask } from "./pool_protocol.ts";
import { errorReport, type FileReport, validReport } from "./report.ts";
import { FLAVOURS } from "./verdict.ts";

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
  /** Worker threads (default 1; 0 checks on the calling thread). */
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
}

interface Prepared {
  input: ValidateInput;
  report: FileReport;
  space?: SpaceInfo;
  result: RangeResult;
  stopped: boolean;
}

function prepare(input: ValidateInput): Prepared {
  const result = emptyRange();
  const fail = (msg: string, bytes = 0) => ({
    input,
    report: errorReport(input, msg, bytes),
    result,
    stopped: true,
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
    const head = new Uint8Array(Math.min(size, UNIV_PAGE_SIZE_MAX));
    fs.readSync(fd, head, 0, head.length, 0);
    let space: SpaceInfo;
    try {
      space = spaceInfoFromPage0(head);
    } catch (err) {
      return fail(`page 0 has invalid tablespace flags: ${(err as Error).message}`, size);
    }
    if (size < space.physicalSize) {
      return fail(`file too small (${size} bytes) for one ${space.physicalSize}-byte page`, size);
    }
    const report = validReport(input, size, describeSpace(space), space);
    const rest = size % space.physicalSize;
    if (rest) report.truncatedBytes = rest;
    return { input, report, space, result, stopped: false };
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
  return report;
}

/** Validate files on disk; one report per input, in input order. */
export async function validateFiles(
  inputs: ValidateInput[],
  opts: EngineOptions = {},
): Promise<FileReport[]> {
  const algo = opts.algorithm ?? parseAlgorithm();
  const threshold = Math.max(1, opts.threshold ?? 64);
  const block = opts.blockSize ?? 8 << 20;
  const prepared = inputs.map(prepare);
  const total = prepared.reduce((n, p) => n + (p.space ? p.report.bytes : 0), 0);
  const tasks: { file: Prepared; task: RangeTask }[] = [];
  let id = 0;
  for (const file of prepared) {
    if (!file.space) continue;
    const ps = file.space.physicalSize;
    const whole = file.report.bytes - (file.report.bytes % ps);
    const step = Math.max(ps, block - (block % ps));
    for (let off = 0; off < whole; off += step) {
      tasks.push({
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
      });
    }
  }
  if (tasks.length > 0) {
    const pool = new ValidatePool(Math.min(opts.threads ?? 1, tasks.length));
    try {
      let done = 0;
      let next = 0;
      const depth = Math.max(1, pool.size) * 2;
      const runOne = async (): Promise<void> => {
        while (next < tasks.length) {
          if (opts.signal?.aborted) throw opts.signal.reason ?? new Error("aborted");
          const { file, task } = tasks[next++];
          if (file.stopped) continue;
          const reply = await pool.run(task);
          done += task.length;
          opts.onProgress?.(done, total);
          if (file.stopped) continue;
          if (reply.error !== undefined) {
            file.stopped = true;
            file.report = errorReport(file.input, `read failed: ${reply.error}`, file.report.bytes);
            continue;
          }
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
      };
      await Promise.all(Array.from({ length: depth }, runOne));
    } finally {
      await pool.close();
    }
  }
  return prepared.map((p) =>
    finishReport(p.report, p.result, threshold, p.stopped && p.report.status !== "error")
  );
}
