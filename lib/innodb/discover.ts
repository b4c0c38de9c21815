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

/** Files found: those to validate and those only listed. */
export interface Discovered {
  inputs: ValidateInput[];
  /** Relative names of files that are not InnoDB tablespaces. */
  notValidated: string[];
}

/** Whether a file name (no directory) is an InnoDB tablespace by its name. */
export function isInnodbName(base: string): boolean {
  return /\.ibd$/i.test(base) || /^ibdata\d+$/.test(base) || /^undo\d+$/.test(base);
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
function walk(root: string, depth: number, rel = ""): string[] {
  const out: string[] = [];
  const dir = path.join(root, rel);
  const entries = fs.readdirSync(dir, { withFileTypes: true });
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const e of entries) {
    const r = rel ? `${rel}/${e.name}` : e.name;
    if (e.isDirectory() && !/\.ibd$/i.test(e.name)) {
      if (depth > 1) out.push(...walk(root, depth - 1, r));
    } else {
      out.push(r);
    }
  }
  return out;
}

/** The files of a stopped server's data directory. */
export function discoverDatadir(datadir: string): Discovered {
  const found: Discovered = { inputs: [], notValidated: [] };
  for (const rel of walk(datadir, 2)) {
    const base = rel.split("/").pop()!;
    const top = !rel.includes("/");
    if (isInnodbName(base)) {
      found.inputs.push(input(datadir, rel));
    } else if (!top) {
      found.notValidated.push(rel);
    }
  }
  return found;
}

/** The files of a backup directory, at any depth. */
export function discoverBackupDir(dir: string): Discovered {
  const found: Discovered = { inputs: [], notValidated: [] };
  for (const rel of walk(dir, 8)) {
    const base = rel.split("/").pop()!;
    if (IGNORED.test(base)) continue;
    if (isInnodbName(base)) found.inputs.push(input(dir, rel));
    else found.notValidated.push(rel);
  }
  return found;
}

/** Files named on the command line: InnoDB names are validated, others listed. */
export function discoverPaths(paths: string[]): Discovered {
  const found: Discovered = { inputs: [], notValidated: [] };
  for (const p of paths) {
    const base = path.basename(p);
    if (isInnodbName(base)) {
      const parts = p.split(/[\\/]/).filter(Boolean);
      const rel = parts.slice(-2).join("/");
      found.inputs.push({ path: p, name: p, table: tableNameOf(rel) });
    } else found.notValidated.push(p);
  }
  return found;
}
