/**
 * Page formats MariaDB cannot write, built here from the specification in
 * MySQL's source, and undo tablespaces found by content:
 *
 * - the legacy big-endian crc32 (MySQL 5.6/5.7 `ut_crc32_legacy_big_endian`,
 *   storage/innobase/ut/ut0crc32.cc: bytes up to an 8-byte boundary one by one,
 *   then each aligned 8-byte word byte-swapped, then the tail; the page checksum
 *   XORs the ranges [4,26) and [38,size-8) as buf_calc_page_crc32 does). The
 *   fixture's checksum is computed a second, independent way: the aligned words
 *   are reversed in a copy and the ordinary CRC-32C runs over it.
 * - undo tablespaces named `undo_001` (MySQL 8), recognised by page 0.
 */
import assert from "node:assert/strict";
import { startServer } from "../scripts/throwaway_server.ts";
import { validateFiles } from "../lib/innodb/validator.ts";
import { parseAlgorithm } from "../lib/innodb/algorithm.ts";
import { crc32cTs } from "../lib/innodb/checksum_ts.ts";
import { discoverDatadir, discoverPaths, isTablespaceFile } from "../lib/innodb/discover.ts";
import { putBe32 } from "../lib/innodb/layout.ts";
import { lz4CompressBlock } from "../lib/kernels/lz4.ts";
import zlib from "node:zlib";

const LEGACY = new URL("../../shared/ibd-legacy/", import.meta.url).pathname;
const T10K = LEGACY + "innodb_ruby/t_10k_rows.ibd";

/** CRC-32C of page[start, start+len) with every 8-byte-aligned word inside it reversed. */
function reversedWordsCrc(page: Uint8Array, start: number, len: number): number {
  const t = page.slice();
  for (let w = Math.ceil(start / 8) * 8; w + 8 <= start + len; w += 8) {
    t.set(page.slice(w, w + 8).reverse(), w);
  }
  return crc32cTs(t, start, len);
}

/** Rewrite page `n` of `file` with a big-endian crc32 checksum in both fields. */
function bigEndianPage(file: string, n: number, ps = 16384): void {
  const all = Deno.readFileSync(file);
  const page = all.subarray(n * ps, (n + 1) * ps);
  if (page.every((x) => x === 0)) return;
  const sum = (reversedWordsCrc(page, 4, 22) ^ reversedWordsCrc(page, 38, ps - 46)) >>> 0;
  putBe32(page, 0, sum);
  putBe32(page, ps - 8, sum);
  Deno.writeFileSync(file, all);
}

Deno.test("legacy big-endian crc32: accepted by default, named, rejected by strict_crc32", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const f = `${dir}/be.ibd`;
    await Deno.copyFile(T10K, f);
    const size = (await Deno.stat(f)).size / 16384;
    for (let p = 0; p < size; p++) bigEndianPage(f, p);
    const run = (algorithm: string) =>
      validateFiles([{ path: f, name: f }], {
        threads: 0,
        algorithm: parseAlgorithm(algorithm),
        threshold: 1000,
      });
    for (const kernels of ["auto", "ts"] as const) {
      const [r] = await validateFiles([{ path: f, name: f }], { threads: 0, kernels });
      assert.equal(r.status, "valid", JSON.stringify(r.corrupt[0]));
      assert.equal(r.flavour, "crc32_big_endian");
      assert.ok(r.flavours.crc32_big_endian >= size - 2, JSON.stringify(r.flavours));
    }
    for (const algorithm of ["crc32", "innodb", "none"]) {
      assert.equal((await run(algorithm))[0].status, "valid", algorithm);
    }
    const strict = (await run("strict_crc32"))[0];
    assert.equal(strict.status, "corrupt");
    assert.ok(strict.corruptPages >= size - 2);
    assert.equal((await run("strict_innodb"))[0].status, "corrupt");
    // One changed byte is still found.
    const all = Deno.readFileSync(f);
    all[3 * 16384 + 5000] ^= 1;
    Deno.writeFileSync(f, all);
    const [bad] = await run("crc32");
    assert.deepEqual(bad.corrupt.map((c) => c.page), [3]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("undo tablespaces are found by content: undo_001, undo002, ibtmp1 skipped and said", async () => {
  const srv = await startServer({ installArgs: ["--innodb-undo-tablespaces=2"] });
  const datadir = srv.datadir;
  const dir = await Deno.makeTempDir();
  try {
    await srv.stop({ keepDatadir: true });
    await Deno.copyFile(`${datadir}/undo001`, `${dir}/undo_001`);
    await Deno.copyFile(`${datadir}/undo002`, `${dir}/undo002`);
    await Deno.copyFile(`${datadir}/undo001`, `${dir}/renamed_tablespace`);
    await Deno.copyFile(`${datadir}/ibdata1`, `${dir}/ibdata1`);
    await Deno.copyFile(`${datadir}/undo002`, `${dir}/ibtmp1`);
    await Deno.writeFile(`${dir}/zeros`, new Uint8Array(65536));
    await Deno.writeTextFile(`${dir}/ib_logfile0`, "not a tablespace".repeat(1024));
    assert.ok(isTablespaceFile(`${dir}/undo_001`));
    assert.ok(!isTablespaceFile(`${dir}/zeros`));
    assert.ok(!isTablespaceFile(`${dir}/ib_logfile0`));
    const found = discoverDatadir(dir);
    assert.deepEqual(found.inputs.map((i) => i.name).sort(), [
      "ibdata1",
      "renamed_tablespace",
      "undo002",
      "undo_001",
    ]);
    assert.deepEqual(found.skipped?.map((s) => s.name), ["ibtmp1"]);
    const paths = discoverPaths([`${dir}/undo_001`, `${dir}/zeros`]);
    assert.deepEqual(paths.inputs.map((i) => i.path), [`${dir}/undo_001`]);
    assert.deepEqual(paths.notValidated, [`${dir}/zeros`]);
    const reports = await validateFiles(found.inputs, { threads: 1 });
    for (const r of reports) assert.equal(r.status, "valid", `${r.name}: ${r.error ?? ""}`);
  } finally {
    await Deno.remove(datadir, { recursive: true });
    await Deno.remove(dir, { recursive: true });
  }
});

/**
 * A MySQL type-14 page as `Compression::compress` (MySQL os0file.cc) writes it:
 * FIL header kept, type 14, control bytes 26..33 (version 1, algorithm, original
 * type, original size = page size - 38, compressed size), the zlib stream
 * (`compress2`) or LZ4 block of bytes 38.. at 38, zeros after it.
 */
function compressPage(page: Uint8Array, algorithm: 1 | 2): Uint8Array {
  const body = page.subarray(38);
  const packed = algorithm === 1 ? zlib.deflateSync(body) : lz4CompressBlock(body);
  const out = new Uint8Array(page.length);
  out.set(page.subarray(0, 38));
  out.set(packed, 38);
  out[24] = 0, out[25] = 14;
  out[26] = 1, out[27] = algorithm;
  out[28] = page[24], out[29] = page[25];
  out[30] = (page.length - 38) >> 8, out[31] = (page.length - 38) & 0xff;
  out[32] = packed.length >> 8, out[33] = packed.length & 0xff;
  return out;
}

Deno.test("MySQL page compression (type 14, zlib and LZ4): inflated and verified", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const all = Deno.readFileSync(T10K);
    const pages = all.length / 16384;
    const f = `${dir}/pc.ibd`;
    let compressed = 0;
    for (let p = 1; p < pages; p++) {
      const page = all.subarray(p * 16384, (p + 1) * 16384);
      if (page.every((x) => x === 0)) continue;
      page.set(compressPage(page.slice(), p % 2 ? 1 : 2));
      compressed++;
    }
    Deno.writeFileSync(f, all);
    for (const kernels of ["auto", "ts"] as const) {
      const [r] = await validateFiles([{ path: f, name: f }], { threads: 0, kernels });
      assert.equal(r.status, "valid", JSON.stringify(r.corrupt[0]));
      assert.equal(r.flavours.mysql_compressed, compressed);
    }
    const [w] = await validateFiles([{ path: f, name: f }], { threads: 2 });
    assert.equal(w.status, "valid", JSON.stringify(w.corrupt[0]));
    // A flipped byte in a zlib body, in an LZ4 body, and in the page number.
    all[3 * 16384 + 60] ^= 0xff; // page 3: zlib
    all[4 * 16384 + 60] ^= 0x01; // page 4: LZ4
    all[5 * 16384 + 7] ^= 0x01;
    Deno.writeFileSync(f, all);
    const [bad] = await validateFiles([{ path: f, name: f }], { threads: 0, threshold: 1000 });
    assert.deepEqual(bad.corrupt.map((c) => c.page), [3, 4, 5], JSON.stringify(bad.corrupt));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("MySQL keyring-encrypted pages without a key: counted as encrypted, not verified, not corrupt", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const all = Deno.readFileSync(T10K);
    const pages = all.length / 16384;
    let marked = 0;
    for (let p = 1; p < pages; p++) {
      const page = all.subarray(p * 16384, (p + 1) * 16384);
      if (page.every((x) => x === 0)) continue;
      // Encryption::encrypt: header kept, type 15/17 (16 for compressed), body ciphertext.
      const type = [15, 16, 17][p % 3];
      page[24] = 0, page[25] = type;
      crypto.getRandomValues(page.subarray(38));
      marked++;
    }
    const f = `${dir}/enc.ibd`;
    Deno.writeFileSync(f, all);
    const [r] = await validateFiles([{ path: f, name: f }], { threads: 0 });
    assert.equal(r.status, "valid");
    assert.equal(r.encryptedNotVerified, marked);
    assert.equal(r.corruptPages, 0);
    all[6 * 16384 + 7] ^= 0x01; // a wrong page number is still found
    Deno.writeFileSync(f, all);
    const [bad] = await validateFiles([{ path: f, name: f }], { threads: 0 });
    assert.deepEqual(bad.corrupt.map((c) => c.page), [6]);
    assert.equal(bad.encryptedNotVerified, marked - 1);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
