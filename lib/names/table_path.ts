/**
 * The one mapping from a file path inside a backup, image, stream or data
 * directory (`db/t.ibd`, `we@0020ird/@0gbc.cfg`, `d/t#P#p0.ibd.lz4`) to the
 * Unicode table it belongs to (`` `we ird`.`àbc` ``), so every command names
 * tables the same way. A table's files are its tablespace (`.ibd`, or `.new`
 * for one mariadb-backup saw created during the copy) and the files beside it
 * (`.cfg`, `.cfp`, `.frm`, `.isl`, and the `.delta`/`.meta` of incrementals),
 * possibly with a compression or encryption suffix (`.lz4`, `.zst`, `.qp`,
 * `.xbcrypt`). The path needs a database directory above the file.
 */
import { decodeFilename, parseTableFilename } from "./filename.ts";

const WRAPPER = /\.(lz4|zst|qp|xbcrypt)$/i;
const TABLE_FILE = /\.(ibd|new|cfg|cfp|frm|isl|delta|meta)$/i;

/** The `` `db`.`table` `` (with partition) a relative path stands for, if any. */
export function tableOfPath(rel: string): string | undefined {
  const parts = rel.split(/[\\/]/);
  if (parts.length < 2) return undefined;
  const base = parts[parts.length - 1].replace(WRAPPER, "");
  if (!TABLE_FILE.test(base)) return undefined;
  const db = decodeFilename(parts[parts.length - 2]);
  const t = parseTableFilename(base.replace(TABLE_FILE, ""));
  const q = (s: string) => "`" + s.replaceAll("`", "``") + "`";
  let name = `${q(db)}.${q(t.table)}`;
  if (t.partition !== undefined) name += ` partition ${t.partition}`;
  if (t.subpartition !== undefined) name += ` subpartition ${t.subpartition}`;
  return name;
}
