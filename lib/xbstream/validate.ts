/**
 * Offline validation of an xbstream written by `mariadb-backup --backup
 * --stream=xbstream` or `xtrabackup --stream=xbstream`: the container checks of
 * the reader (chunk CRC-32s, types, offsets, end-of-file chunks, safe paths) and
 * the page checks of every InnoDB payload (`*.ibd`, `ibdata*`, `undo*`, and the
 * `*.new` files of tables created during the backup), with `.zst` payloads
 * (xtrabackup `--compress=zstd`) decompressed on the way. `.qp` (QuickLZ) and
 * `.xbcrypt` payloads are named as not verified.
 *
 * Such a stream is a hot copy that has not been prepared, and the validator
 * allows what one legitimately holds, saying so: pages whose LSN is above the
 * checkpoint (`to_lsn` of `xtrabackup_checkpoints`, which the writers put at the
 * end of the stream) were changed while the copy ran and are made consistent by
 * `--prepare` from the copied redo log; a page that fails its checks with an
 * LSN between `to_lsn` and `last_lsn` (the end of the copied redo log) is such a
 * page caught mid-write, not counted as corrupt; a file whose pages are all
 * zero is a table created after the checkpoint, still only in the redo log.
 * A failing page with an LSN at or below `to_lsn`, or beyond `last_lsn`, is corrupt.
 */
import { CorruptionError } from "../errors.ts";
import { ZstdFrames } from "../frames/zstd.ts";
import type { ChecksumAlgorithm } from "../innodb/algorithm.ts";
import { allocPageBuffer, type PageBuffer } from "../innodb/checksum_kernels.ts";
import { isInnodbName } from "../innodb/discover.ts";
import { FEED_BUFFER_BYTES, PageFeed } from "../innodb/page_feed.ts";
import type { FileReport } from "../innodb/report.ts";
import { errorReport, notValidatedReport } from "../innodb/report.ts";
import { readXbstream, type XbFile, type XbSummary } from "./reader.ts";
import { tableOfPath } from "../names/table_path.ts";

/** The LSNs a hot copy records in `xtrabackup_checkpoints`. */
export interface Checkpoints {
  backupType?: string;
  fromLsn?: bigint;
  /** The checkpoint LSN the copy starts from. */
  toLsn?: bigint;
  /** The LSN the copied redo log reaches. */
  lastLsn?: bigint;
}

/** What validating a stream found. */
export interface XbValidation {
  /** Per path: page-checked reports, and not-validated ones for the rest. */
  files: FileReport[];
  /** Container findings (each one makes the run fail with exit 1). */
  problems: string[];
  /** What was allowed or not verified, and why (said in the report). */
  notes: string[];
  /** `xtrabackup_checkpoints` as read (LSNs as decimal strings), when the stream has it. */
  checkpoints?: Record<string, string>;
  /** Pages allowed because they changed during the copy, per path. */
  changedDuringCopy: Record<string, number>;
  stream: Omit<XbSummary, "files">;
}

/** Settings for {@link validateXbstream}. */
export interface XbValidateOptions {
  algorithm?: ChecksumAlgorithm;
  threshold?: number;
  signal?: AbortSignal;
  /** The stream's name in messages. */
  name?: string;
  kernels?: "auto" | "ts";
  /** Called as bytes of the stream are consumed (payload bytes so far). */
  onProgress?: (done: number) => void;
}

/** How a path of the stream is handled. */
type Kind = "pages" | "zstd" | "qp" | "lz4" | "xbcrypt" | "checkpoints" | "other";

/** The InnoDB name a path stands for once a compression suffix is taken off. */
function innodbStem(base: string): boolean {
  return isInnodbName(base) || /\.new$/.test(base);
}

function kindOf(path: string): Kind {
  const base = path.split("/").pop() ?? path;
  if (base === "xtrabackup_checkpoints") return "checkpoints";
  if (/\.xbcrypt$/.test(base)) return "xbcrypt";
  if (/\.qp$/.test(base)) return "qp";
  if (/\.lz4$/.test(base) && innodbStem(base.replace(/\.lz4$/, ""))) return "lz4";
  if (/\.zst$/.test(base) && innodbStem(base.replace(/\.zst$/, ""))) return "zstd";
  if (innodbStem(base)) return "pages";
  return "other";
}

/** Run a zstd decoding step; a damaged payload ends the file with the decoder's reason. */
function zstdStep(t: Track, step: () => void): void {
  try {
    step();
  } catch (e) {
    if (!(e instanceof CorruptionError)) throw e;
    t.zstdError = `zstd payload does not decompress: ${e.message}`;
  }
}

/** Parse `xtrabackup_checkpoints` (`key = value` lines). */
export function parseCheckpoints(text: string): Checkpoints {
  const out: Checkpoints = {};
  for (const line of text.split("\n")) {
    const m = /^\s*([a-z_]+)\s*=\s*(\S*)\s*$/.exec(line);
    if (!m) continue;
    const num = /^\d+$/.test(m[2]) ? BigInt(m[2]) : undefined;
    if (m[1] === "backup_type") out.backupType = m[2];
    else if (m[1] === "from_lsn") out.fromLsn = num;
    else if (m[1] === "to_lsn") out.toLsn = num;
    else if (m[1] === "last_lsn") out.lastLsn = num;
  }
  return out;
}

interface Track {
  kind: Kind;
  feed?: PageFeed;
  zstd?: ZstdFrames;
  zstdError?: string;
  text?: Uint8Array[];
  report?: FileReport;
}

/** Validate the xbstream read from `source`. */
export async function validateXbstream(
  source: AsyncIterable<Uint8Array>,
  opts: XbValidateOptions = {},
): Promise<XbValidation> {
  const problems: string[] = [];
  const notes: string[] = [];
  const tracks = new Map<XbFile, Track>();
  let buf: PageBuffer | undefined;
  let consumed = 0;
  const feedOpts = { algorithm: opts.algorithm, threshold: opts.threshold };
  const finishFeed = (t: Track) => {
    if (t.feed && !t.report) {
      t.report = t.feed.finish();
      if (t.zstdError) {
        t.report = errorReport(t.feed.input, t.zstdError, t.feed.bytes);
        problems.push(`${t.feed.input.name}: ${t.zstdError}`);
      }
    }
  };
  const summary = await readXbstream(source, {
    open(file) {
      const kind = kindOf(file.path);
      const t: Track = { kind };
      tracks.set(file, t);
      if (kind === "pages" || kind === "zstd") {
        buf ??= allocPageBuffer(FEED_BUFFER_BYTES, opts.kernels);
        const shown = kind === "zstd" ? file.path.replace(/\.zst$/, "") : file.path;
        t.feed = new PageFeed(
          { path: file.path, name: shown, table: tableOfPath(file.path) },
          buf,
          feedOpts,
        );
        if (kind === "zstd") t.zstd = new ZstdFrames(file.path);
      } else if (kind === "checkpoints") {
        t.text = [];
      }
    },
    data(file, bytes) {
      consumed += bytes.length;
      opts.onProgress?.(consumed);
      const t = tracks.get(file)!;
      if (t.kind === "pages") t.feed!.push(bytes);
      else if (t.kind === "checkpoints") {
        if (file.size <= 1 << 16) t.text!.push(bytes.slice());
      } else if (t.kind === "zstd" && !t.zstdError) {
        zstdStep(t, () => {
          for (const out of t.zstd!.push(bytes)) t.feed!.push(out);
        });
      }
    },
    close(file) {
      const t = tracks.get(file)!;
      if (t.zstd && !t.zstdError) zstdStep(t, () => t.zstd!.end());
      finishFeed(t);
    },
    problem(message) {
      problems.push(message);
    },
  }, { name: opts.name, signal: opts.signal });
  if (summary.damaged) problems.push(summary.damaged);

  // Files cut short by damage or a missing end chunk: judge what arrived.
  for (const t of tracks.values()) {
    if (t.zstd && !t.report) t.zstdError ??= "zstd payload incomplete (no end-of-file chunk)";
    finishFeed(t);
  }

  let checkpoints: Checkpoints | undefined;
  for (const [file, t] of tracks) {
    if (t.kind === "checkpoints" && t.text) {
      checkpoints = parseCheckpoints(new TextDecoder().decode(concat(t.text)));
      if (file.broken) checkpoints = undefined;
    }
  }
  const changedDuringCopy = allowHotCopy(tracks, checkpoints, notes);

  const files: FileReport[] = [];
  const notVerified: string[] = [];
  for (const [file, t] of tracks) {
    if (t.report) {
      files.push(t.report);
      continue;
    }
    files.push(
      notValidatedReport({ name: file.path, table: tableOfPath(file.path) }, file.size),
    );
    if (t.kind === "qp") {
      notVerified.push(`${file.path} (QuickLZ, mariadb-backup --compress)`);
    } else if (t.kind === "lz4") {
      notVerified.push(`${file.path} (LZ4, xtrabackup --compress=lz4)`);
    } else if (t.kind === "xbcrypt") {
      notVerified.push(`${file.path} (xbcrypt-encrypted, --encrypt)`);
    }
  }
  if (notVerified.length) {
    notes.push(
      `${notVerified.length} payloads not verified (their pages cannot be read without ` +
        `decompressing or decrypting them first): ${notVerified.join(", ")}`,
    );
  }
  const { files: _files, ...stream } = summary;
  const shown = checkpoints &&
    Object.fromEntries(Object.entries(checkpoints).map(([k, v]) => [k, String(v)]));
  return { files, problems, notes, checkpoints: shown, changedDuringCopy, stream };
}

/**
 * Apply the hot-copy allowances to the finished page reports (see the module
 * documentation); returns the pages allowed per path and adds the notes.
 */
function allowHotCopy(
  tracks: Map<XbFile, Track>,
  cp: Checkpoints | undefined,
  notes: string[],
): Record<string, number> {
  const allowed: Record<string, number> = {};
  const feeds = [...tracks.values()].filter((t) => t.feed && t.report?.status !== "error");
  const zeroFiles = feeds.filter((t) =>
    t.report!.pages > 0 && t.feed!.zeroPages === t.report!.pages
  );
  if (zeroFiles.length) {
    notes.push(
      `${zeroFiles.length} files have only all-zero pages (${
        zeroFiles.map((t) => t.report!.name).join(", ")
      }): tables created after the checkpoint, whose contents are still only in the redo log ` +
        `(mariadb-backup --prepare writes them)`,
    );
  }
  if (cp?.toLsn === undefined) {
    if (feeds.length) {
      notes.push(
        "no readable xtrabackup_checkpoints in the stream: pages were judged without the " +
          "allowances for a copy taken while the server ran",
      );
    }
    return allowed;
  }
  const to = cp.toLsn, last = cp.lastLsn;
  let newer = 0;
  for (const t of feeds) {
    const rep = t.report!;
    if (t.feed!.maxLsn > to) newer++;
    if (last === undefined || rep.corrupt.length === 0) continue;
    const keep = rep.corrupt.filter((c) => {
      const lsn = t.feed!.corruptLsn.get(c.page);
      return lsn === undefined || !(lsn > to && lsn <= last);
    });
    const n = rep.corrupt.length - keep.length;
    if (n === 0) continue;
    allowed[rep.name] = n;
    rep.corrupt = keep;
    rep.corruptPages = keep.length;
    if (keep.length === 0) {
      rep.status = "valid";
      rep.atLeast = false;
    }
    notes.push(
      `${rep.name}: ${n} pages fail their checks but carry an LSN between to_lsn ${to} and ` +
        `last_lsn ${last}: written while the copy ran; --prepare rewrites them from the redo log`,
    );
  }
  if (newer) {
    notes.push(
      `${newer} files hold pages changed after the checkpoint (LSN above to_lsn ${to}): ` +
        `the copy is consistent only once --prepare has applied the redo log`,
    );
  }
  return allowed;
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}
