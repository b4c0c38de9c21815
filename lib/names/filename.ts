/**
 * MySQL's filename encoding (the `filename` character set): how database and
 * table names become directory and file names in a data directory.
 *
 * - `0-9`, `A-Z`, `a-z` and `_` stay as they are.
 * - Letters from a fixed table (Latin-1 and Latin Extended letters, Greek,
 *   Cyrillic, Armenian, Latin Extended Additional, Greek Extended, Roman numerals,
 *   circled letters, fullwidth letters) become `@` and two characters: `à` is
 *   `@0g`, `À` is `@0G`.
 * - Every other UTF-16 unit becomes `@` and four lowercase hex digits: a space is
 *   `@0020`, `#` is `@0023`. A character outside the BMP becomes its two
 *   surrogate units (`😀` is `@d83d@de00`), which decode back to the character.
 *   (MariaDB and MySQL identifiers cannot hold such characters; the form keeps the
 *   encoding lossless for names that come from elsewhere.)
 *
 * The two-character table was established against MariaDB 10.11 itself
 * (`CONVERT(... USING filename)` for every code point) and is kept below as runs.
 */
import { UsageError } from "../errors.ts";

/**
 * The two-character forms as runs. `XYdN:H[/S]`: starting at code `XY`, N code
 * points starting at U+H (step S, default 1); `d` is `>` when the second
 * character advances along the run and `v` when the first one does.
 */
const TWO_CHAR_RUNS = [
  "0G>20:c0 0g>20:e0 1G>3:d4 1K>7:d8 1R>1:178 1S>8:100/2 1g>3:f4 1j>1:df 1k>8:f8",
  "1s>8:101/2 2G>16:110/2 2X>3:132/2 2g>20:111/2 3H>8:139/2 3Q>10:14a/2 3g>9:138/2",
  "3p>11:149/2 4G>13:15e/2 4T>3:179/2 4g>13:15f/2 4t>3:17a/2 4w>1:17f 5y>1:390 6G>2:386/2",
  "6I>2:389 6L>1:391 6N>5:393 6T>1:399 6V>5:39b 6g>20:3ac 7H>1:3a1 7K>2:3a4 7N>5:3a7",
  "7S>2:38c/2 7U>1:38f 7W>2:392/6 7Y>2:3d2 7g>15:3c0 7w>2:3d0 8G>1:3d4 8H>1:3a6 8I>1:3a0",
  "8L>11:3da/2 8W>1:39a 8Y>1:3a3 8h>3:3d5 8k>12:3d9/2 8w>4:3f0 9L>3:3fd 9g>2:3f5",
  "9i>2:3f8/3 9k>1:3fc @A>26:24b6 @a>26:24d0 G0v20:410 g0v20:430 G1v12:424 S1v8:400",
  "g1v20:444 G2v8:408 O2v12:460/2 g2v8:458 o2v12:461/2 G3v5:478/2 M3v14:48a/2 g3v5:479/2",
  "m3v14:48b/2 G4v14:4a6/2 U4v6:4c1/2 g4v13:4a7/2 u4v6:4c2/2 G5v1:4cd I5v18:4d0/2",
  "g5v1:4ce i5v18:4d1/2 G6v3:4f4/2 P6v8:500/2 g6v3:4f5/2 p6v8:501/2 H7v19:531 h7v19:561",
  "G8v18:544 g8v18:574 G9v16:2160 g9v16:2170 A@v26:ff21 a@v26:ff41 Hav2:182/2 Jav2:187/4",
  "Mav1:191 Nav1:1f6 Oav1:198 Pav1:23d Rav1:220 Sav3:1a0/2 Vav1:1a7 Yav2:1ac/3 gav2:180/3",
  "iav2:185/3 kav2:18c mav2:192/3 oav3:199 rav2:19e/3 tav2:1a3/2 vav2:1a8/2 xav2:1ab/2",
  "zav1:1b0 Gbv2:1b3/2 Ibv1:1b8 Nbv1:1bc Obv4:1c4/3 Sbv7:1cf/2 Zbv1:18e gbv2:1b4/2",
  "ibv3:1b9 mbv1:1be nbv1:1bd obv3:1c6/3 rbv8:1ce/2 zbv1:1dd Gcv9:1de/2 Qcv2:1f1/3",
  "Scv8:1f8/2 gcv9:1df/2 pcv2:1f0/3 rcv2:1f5/4 tcv7:1fb/2 Gdv12:208/2 Tdv7:222/2",
  "gdv20:209/2 Gev2:230/2 Oev2:23a Qev1:23e gev2:231/2 iev6:234 pev1:23c rev2:23f",
  "Qfv2:181/5 Tfv2:189 Wfv1:18f Yfv1:190 nfv13:250 Jgv1:193 Mgv1:194 Rgv1:197 Sgv1:196",
  "Ygv1:19c ggv20:25d Hhv1:19d Khv1:19f Vhv1:1a6 Yhv1:1a9 ghv20:271 Jiv1:1ae Liv2:1b1",
  "Tiv1:1b7 Viv1:241 giv20:285 gjv20:299 gkv3:2ad Glv20:1e00/2 glv20:1e01/2 Gmv20:1e28/2",
  "gmv20:1e29/2 Gnv8:1e50/2 Pnv11:1e62/2 gnv20:1e51/2 Gov15:1e78/2 gov15:1e79/2 vov5:1e96",
  "Gpv1:1e60 Lpv15:1ea0/2 gpv1:1e9b lpv15:1ea1/2 Gqv20:1ebe/2 gqv20:1ebf/2 Grv10:1ee6/2",
  "grv10:1ee7/2 Gsv8:1f08 Osv6:1f18 Ysv2:1f28 gsv8:1f00 osv6:1f10 ysv2:1f20 Gtv6:1f2a",
  "Mtv8:1f38 Utv6:1f48 gtv6:1f22 mtv8:1f30 utv6:1f40 Luv1:1f59 Nuv1:1f5b Puv1:1f5d",
  "Ruv1:1f5f Wuv4:1f68 kuv8:1f50 wuv4:1f60 Gvv4:1f6c Kvv2:1fba Mvv4:1fc8 Qvv2:1fda",
  "Svv2:1ff8 Uvv2:1fea Wvv2:1ffa gvv4:1f64 kvv14:1f70 Gwv8:1f88 Owv8:1f98 Wwv4:1fa8",
  "gwv8:1f80 owv8:1f90 wwv4:1fa0 Gxv4:1fac Kxv2:1fb8 Nxv1:1fbc Txv1:1fcc Yxv2:1fd8",
  "gxv4:1fa4 kxv5:1fb0 qxv2:1fb6 sxv3:1fc2 wxv2:1fc6 yxv2:1fd0 Nyv2:1fe8 Syv1:1fec",
  "Yyv1:1ffc gyv2:1fd2 kyv2:1fd6 nyv8:1fe0 xyv2:1ff2 hzv2:1ff6",
].join(" ");

let byCodePoint: Map<number, string> | undefined;
let byCode: Map<string, number> | undefined;

function tables(): { byCodePoint: Map<number, string>; byCode: Map<string, number> } {
  if (!byCodePoint || !byCode) {
    byCodePoint = new Map();
    byCode = new Map();
    for (const run of TWO_CHAR_RUNS.split(" ")) {
      const m = /^(.)(.)([>v])(\d+):([0-9a-f]+)(?:\/(\d+))?$/.exec(run);
      if (!m) throw new Error(`bad filename table run ${run}`);
      const [, a, b, dir, count, start, step] = m;
      for (let i = 0; i < Number(count); i++) {
        const first = dir === "v" ? String.fromCharCode(a.charCodeAt(0) + i) : a;
        const second = dir === ">" ? String.fromCharCode(b.charCodeAt(0) + i) : b;
        const cp = parseInt(start, 16) + i * Number(step ?? 1);
        byCodePoint.set(cp, first + second);
        byCode.set(first + second, cp);
      }
    }
  }
  return { byCodePoint, byCode };
}

function isSafe(unit: number): boolean {
  return (unit >= 0x30 && unit <= 0x39) || (unit >= 0x41 && unit <= 0x5a) ||
    (unit >= 0x61 && unit <= 0x7a) || unit === 0x5f;
}

/**
 * Encode a database or table name as MySQL names it on disk: `àbc` is `@0gbc`,
 * `weird db` is `weird@0020db`, `😀` is `@d83d@de00`. Throws UsageError for an
 * empty name or one holding NUL, which no server accepts. (The pre-5.1
 * `#mysql50#` prefix gets no special treatment: MariaDB 10.11 and MySQL 8 refuse it.)
 */
export function encodeFilename(name: string): string {
  if (name.length === 0) throw new UsageError("an empty name has no file name");
  if (name.includes("\0")) throw new UsageError(`name ${JSON.stringify(name)} contains NUL`);
  const { byCodePoint } = tables();
  let out = "";
  for (let i = 0; i < name.length; i++) {
    const unit = name.charCodeAt(i);
    if (isSafe(unit)) {
      out += name[i];
      continue;
    }
    const two = byCodePoint.get(unit);
    out += two ? `@${two}` : `@${unit.toString(16).padStart(4, "0")}`;
  }
  return out;
}

const HEX4 = /^[0-9a-f]{4}$/;

/** One `@` sequence at `i` (which holds `@`): its text and length, or undefined if malformed. */
function decodeEscape(s: string, i: number): [string, number] | undefined {
  if (s.startsWith("@@@", i)) return ["\0", 3];
  const two = tables().byCode.get(s.slice(i + 1, i + 3));
  if (two !== undefined) return [String.fromCharCode(two), 3];
  const hex = s.slice(i + 1, i + 5);
  if (HEX4.test(hex)) return [String.fromCharCode(parseInt(hex, 16)), 5];
  return undefined;
}

/**
 * Decode a file or directory name to the Unicode name it stands for:
 * `@0gbc` is `àbc`, `@d83d@de00` is `😀`. For display, it never throws: anything
 * that is not a well-formed sequence (a `#P#` partition marker, a `#sql-...`
 * temporary name, a stray `@`, uppercase hex) is kept as it is. Use
 * {@link isWellFormedFilename} to tell whether the server would have produced it.
 */
export function decodeFilename(encoded: string): string {
  let out = "";
  for (let i = 0; i < encoded.length;) {
    if (encoded[i] === "@") {
      const esc = decodeEscape(encoded, i);
      if (esc) {
        out += esc[0];
        i += esc[1];
        continue;
      }
    }
    out += encoded[i];
    i++;
  }
  return out;
}

/** True if every character of `encoded` is a safe character or a well-formed `@` sequence. */
export function isWellFormedFilename(encoded: string): boolean {
  if (encoded.length === 0) return false;
  for (let i = 0; i < encoded.length;) {
    if (encoded[i] === "@") {
      const esc = decodeEscape(encoded, i);
      if (!esc || esc[0] === "\0") return false;
      i += esc[1];
    } else if (isSafe(encoded.charCodeAt(i))) {
      i++;
    } else {
      return false;
    }
  }
  return true;
}

/** What a tablespace file name (without extension) stands for. */
export interface TableFilename {
  /** Decoded table name (a temporary name is kept verbatim). */
  table: string;
  /** Decoded partition name, for `t#P#p0` (MariaDB) or `t#p#p0` (MySQL 8). */
  partition?: string;
  /** Decoded subpartition name, for `t#P#p0#SP#s0` or `t#p#p0#sp#s0`. */
  subpartition?: string;
  /** True for `#sql...` names: intermediate tables of ALTER TABLE or temporary tables. */
  temporary: boolean;
}

/**
 * Split a tablespace file name (without `.ibd`) into table, partition and
 * subpartition, each decoded for display: `t@0020x#P#p0` is table `t x`,
 * partition `p0`. `#sql...` names are marked temporary and kept verbatim. Never throws.
 */
export function parseTableFilename(stem: string): TableFilename {
  if (stem.startsWith("#sql")) return { table: stem, temporary: true };
  const [table, ...rest] = stem.split(/#[Pp]#/);
  const result: TableFilename = { table: decodeFilename(table), temporary: false };
  if (rest.length > 0) {
    const [partition, ...sub] = rest.join("#P#").split(/#(?:SP|sp)#/);
    result.partition = decodeFilename(partition);
    if (sub.length > 0) result.subpartition = decodeFilename(sub.join("#SP#"));
  }
  return result;
}

/** Path of a table's file relative to the data directory: `db/tbl.ibd`, names encoded. */
export function tableFilePath(database: string, table: string, extension = ".ibd"): string {
  return `${encodeFilename(database)}/${encodeFilename(table)}${extension}`;
}
