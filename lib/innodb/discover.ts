/**
 * Which files a validation run covers: the InnoDB files of a data directory
 * (system tablespace `ibdata*`, undo tablespaces, every `.ibd` one level down),
 * of a backup directory (every InnoDB file at any depth), or given one by one;
 * every other file is listed as not validated. Names are shown as on disk with
 * the Unicode table name decoded beside them.
 */
import fs from "node:fs";
import path from "node:path";
import { decodeFilename, parseTableFilename } from "../names/filename.ts";
import type { ValidateInput } from "./validator.ts";
import { parseAlgorithm } from "./algorithm.ts";
import { wrapPageBuffer } from "./checksum_kernels.ts";
import { spaceInfoFromPage0 } from "./flags.ts";
import {
  be16,
  be32,
  FIL_PAGE_OFFSET,
  FIL_PAGE_TYPE,
  FIL_PAGE_TYPE_FSP_HDR,
  UNIV_PAGE_SIZE_MAX,
  UNIV_ZIP_SIZE_MIN,
} from "./layout.ts";
import { F_ZERO, judgePage } from "./verdict.ts";
import { isRunLogPath } from "../core/run_log_path.ts";

/** Files found: those to validate and those only listed. */
export interface Discovered {
  inputs: ValidateInput[];
  /** Relative names of files that are not InnoDB tablespaces. */
  notValidated: string[];
  /** InnoDB files deliberately not validated, with the reason (e.g. the temporary tablespace). */
  skipped?: { name: string; reason: string }[];
}

/**
 * Whether a file name (no directory) is an InnoDB tablespace by its name:
 * `*.ibd`, `ibdata*`, undo tablespaces (`undo001` of 5.7 and MariaDB,
 * `undo_001` of MySQL 8, `*.ibu` of CREATE UNDO TABLESPACE). Files with other
 * names are judged by their content ({@link isTablespaceFile}).
 */
export function isInnodbName(base: string): boolean {
  return /\.ib[du]$/i.test(base) || /^ibdata\d+$/.test(base) || /^undo_?\d+$/.test(base);
}

/** Temporary tablespaces, recreated at every server start: skipped by name, and said. */
export function temporaryReason(base: string): string | undefined {
  if (/^ibtmp\d+$/.test(base) || /\.ibt$/i.test(base)) {
    return "temporary tablespace, recreated at server start: skipped";
  }
  return undefined;
}

/**
 * Whether a file is an InnoDB tablespace by its content: page 0 is a
 * tablespace header page (page number 0, FSP_HDR type, or 0 in files older
 * than page types), its flags give a valid page size, the file is whole pages,
 * and page 0's checksum is valid under some flavour. Reads at most 64 KiB.
 */
export function isTablespaceFile(file: string): boolean {
  let fd = -1;
  try {
    const st = fs.statSync(file);
    if (!st.isFile() || st.size < UNIV_ZIP_SIZE_MIN || st.size % UNIV_ZIP_SIZE_MIN) return false;
    fd = fs.openSync(file, "r");
    const head = new Uint8Array(Math.min(st.size, UNIV_PAGE_SIZE_MAX));
    const n = fs.readSync(fd, head, 0, head.length, 0);
    if (n < head.length) return false;
    if (be32(head, FIL_PAGE_OFFSET) !== 0) return false;
    const type = be16(head, FIL_PAGE_TYPE);
    if (type !== FIL_PAGE_TYPE_FSP_HDR && type !== 0) return false;
    const space = spaceInfoFromPage0(head);
    if (st.size % space.physicalSize || head.length < space.physicalSize) return false;
    const v = judgePage(wrapPageBuffer(head), 0, 0, space, parseAlgorithm());
    return typeof v === "number" && v !== F_ZERO;
  } catch {
    return false;
  } finally {
    if (fd >= 0) fs.closeSync(fd);
  }
}

/** The Unicode `db`.`table` a relative `.ibd` path stands for, if any. */
export function tableNameOf(rel: string): string | undefined {
  const parts = rel.split(/[\\/]/);
  const base = parts[parts.length - 1];
  if (!/\.ibd$/i.test(base) || parts.length < 2) return undefined;
  const db = decodeFilename(parts[parts.length - 2]);
  const t = parseTableFilename(base.replace(/\.ibd$/i, ""));
  let name = `\`${db}\`.\`${t.table}\``;
  if (t.partition !== undefined) name += ` partition ${t.partition}`;
  if (t.subpartition !== undefined) name += ` subpartition ${t.subpartition}`;
  return name;
}

function input(root: string, rel: string): ValidateInput {
  return { path: path.join(root, rel), name: rel, table: tableNameOf(rel) };
}

/** Files to skip silently: ibvault's own metadata and server logs that are not tablespaces. */
const IGNORED = /^(ibvault_manifest\.json)$/;

/** Walk `root` to `depth` levels (1 = only root's own entries); names are relative, `/`-separated. */
function* walk(root: string, depth: number, rel = ""): Generator<string> {
  const dir = path.join(root, rel);
  const names: string[] = [];
  const dirs = new Set<string>();
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    names.push(e.name);
    if (e.isDirectory() && !/\.ibd$/i.test(e.name)) dirs.add(e.name);
  }
  names.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  for (const name of names) {
    const r = rel ? `${rel}/${name}` : name;
    if (dirs.has(name)) {
      if (depth > 1) yield* walk(root, depth - 1, r);
    } else {
      yield r;
    }
  }
}

/** One thing a discovery walk found: a file to validate, another file, or an InnoDB file skipped. */
export type Found =
  | { input: ValidateInput }
  | { other: string }
  | { skipped: string; reason: string };

/**
 * The files of a stopped server's data directory, found one by one: every
 * InnoDB file by name or by content at the top level (system, undo and
 * `mysql.ibd` tablespaces under any name), every `.ibd` one level down;
 * temporary tablespaces are skipped and said. Other top-level files (logs, the
 * server's own) are left out.
 */
export function* walkDatadir(datadir: string): Generator<Found> {
  for (const rel of walk(datadir, 2)) {
    const base = rel.slice(rel.lastIndexOf("/") + 1);
    const top = !rel.includes("/");
    const temporary = temporaryReason(base);
    if (temporary) {
      yield { skipped: rel, reason: temporary };
    } else if (isInnodbName(base) || (top && isTablespaceFile(path.join(datadir, rel)))) {
      yield { input: input(datadir, rel) };
    } else if (!top) {
      yield { other: rel };
    }
  }
}

/** The files of a backup directory, at any depth (InnoDB files by name or by content), one by one. */
export function* walkBackupDir(dir: string): Generator<Found> {
  for (const rel of walk(dir, 8)) {
    const base = rel.slice(rel.lastIndexOf("/") + 1);
    if (IGNORED.test(base) || isRunLogPath(rel)) continue;
    if (isInnodbName(base) || isTablespaceFile(path.join(dir, rel))) {
      yield { input: input(dir, rel) };
    } else yield { other: rel };
  }
}

/**
 * Files named on the command line: InnoDB names are validated, and so is any
 * other file whose content is a tablespace; the rest are listed.
 */
export function* walkPaths(paths: string[]): Generator<Found> {
  for (const p of paths) {
    const base = path.basename(p);
    if (isInnodbName(base) || isTablespaceFile(p)) {
      const parts = p.split(/[\\/]/).filter(Boolean);
      const rel = parts.slice(-2).join("/");
      yield { input: { path: p, name: p, table: tableNameOf(rel) } };
    } else yield { other: p };
  }
}

/** Collect a walk into lists. */
export function collect(found: Iterable<Found>): Discovered {
  const out: Discovered = { inputs: [], notValidated: [], skipped: [] };
  for (const f of found) {
    if ("input" in f) out.inputs.push(f.input);
    else if ("other" in f) out.notValidated.push(f.other);
    else out.skipped!.push({ name: f.skipped, reason: f.reason });
  }
  return out;
}

/** {@link walkDatadir}, collected. */
export function discoverDatadir(datadir: string): Discovered {
  return collect(walkDatadir(datadir));
}

/** {@link walkBackupDir}, collected. */
export function discoverBackupDir(dir: string): Discovered {
  return collect(walkBackupDir(dir));
}

/** {@link walkPaths}, collected. */
export function discoverPaths(paths: string[]): Discovered {
  return collect(walkPaths(paths));
}
