/** Page verdict, flags, algorithms and kernels, on real legacy files and synthetic pages. */
import assert from "node:assert/strict";
import { decodeFlags, spaceInfoFromPage0 } from "../lib/innodb/flags.ts";
import { parseAlgorithm } from "../lib/innodb/algorithm.ts";
import { allocPageBuffer, wrapPageBuffer } from "../lib/innodb/checksum_kernels.ts";
import { F_ZERO, FLAVOURS, judgePage } from "../lib/innodb/verdict.ts";
import { validateFiles } from "../lib/innodb/validator.ts";
import { UsageError } from "../lib/errors.ts";

const LEGACY = new URL("../../shared/ibd-legacy/", import.meta.url).pathname;

function legacyFiles(): string[] {
  const out: string[] = [];
  for (const d of Deno.readDirSync(LEGACY)) {
    if (!d.isDirectory) continue;
    for (const f of Deno.readDirSync(LEGACY + d.name)) {
      if (f.name.endsWith(".ibd")) out.push(`${LEGACY}${d.name}/${f.name}`);
    }
  }
  return out.sort();
}

Deno.test("legacy MySQL 5.0/5.6 tablespaces (innodb checksum) validate clean", async () => {
  const files = legacyFiles();
  assert.ok(files.length >= 8);
  for (const kernels of ["auto", "ts"] as const) {
    const reports = await validateFiles(files.map((p) => ({ path: p, name: p })), {
      threads: 0,
      kernels,
    });
    for (const r of reports) {
      assert.equal(r.status, "valid", `${r.name}: ${JSON.stringify(r.corrupt[0])}`);
      assert.equal(r.flavour, "innodb");
      assert.ok(r.pages > 0);
    }
    // strict_crc32 rejects them, strict_innodb accepts them
    const strict = await validateFiles([{ path: files[0], name: "x" }], {
      threads: 0,
      algorithm: parseAlgorithm("strict_crc32"),
    });
    assert.equal(strict[0].status, "corrupt");
    const strictInnodb = await validateFiles([{ path: files[0], name: "x" }], {
      threads: 0,
      algorithm: parseAlgorithm("strict_innodb"),
    });
    assert.equal(strictInnodb[0].status, "valid");
  }
});

Deno.test("tablespace flags give page sizes and formats", () => {
  const plain = decodeFlags(0x21);
  assert.deepEqual([plain.logicalSize, plain.physicalSize, plain.fullCrc32], [16384, 16384, false]);
  for (
    const [flags, zip] of [[0x23, 1024], [0x25, 2048], [0x27, 4096], [0x29, 8192], [
      0x2b,
      16384,
    ]]
  ) {
    const s = decodeFlags(flags);
    assert.equal(s.zipSize, zip);
    assert.equal(s.physicalSize, zip);
    assert.equal(s.logicalSize, 16384);
  }
  assert.equal(decodeFlags(0x10021).pageCompressed, true);
  const f = decodeFlags(0x15);
  assert.deepEqual([f.fullCrc32, f.logicalSize, f.pageCompressed], [true, 16384, false]);
  assert.equal(decodeFlags(0x35).pageCompressed, true);
  assert.equal(decodeFlags(0x13).logicalSize, 4096);
  assert.equal(decodeFlags(0x17).logicalSize, 65536);
  assert.equal(decodeFlags(3 << 6).logicalSize, 4096); // classic innodb_page_size=4k
  assert.equal(decodeFlags(7 << 6).logicalSize, 65536);
  assert.throws(() => decodeFlags(0x11)); // full_crc32 with page ssize 1
});

Deno.test("algorithm names", () => {
  assert.equal(parseAlgorithm().strict, "any");
  assert.equal(parseAlgorithm("crc32").strict, "any");
  assert.equal(parseAlgorithm("STRICT_CRC32").strict, "crc32");
  assert.equal(parseAlgorithm("strict_full_crc32").strict, "crc32");
  assert.equal(parseAlgorithm("strict_none").strict, "none");
  assert.throws(() => parseAlgorithm("md5"), UsageError);
});

Deno.test("WASM kernels agree with the TypeScript ones", () => {
  const n = 1 << 16;
  const w = allocPageBuffer(n);
  const t = allocPageBuffer(n, "ts");
  for (let i = 0; i < n; i++) w.bytes[i] = t.bytes[i] = (i * 2654435761) >>> 23;
  for (const [off, len] of [[0, n], [3, 1000], [38, 16384 - 46], [4, 22]]) {
    assert.equal(w.crc32c(off, len), t.crc32c(off, len));
    assert.equal(w.adler32(off, len, 0), t.adler32(off, len, 0));
  }
  assert.equal(w.innodbNew(0, 16384), t.innodbNew(0, 16384));
  assert.equal(w.innodbOld(100), t.innodbOld(100));
  assert.equal(t.crc32c(0, 0), 0);
});

Deno.test("zero page valid; a page at the wrong position is corrupt", () => {
  const page0 = Deno.readFileSync(legacyFiles()[0]);
  const space = spaceInfoFromPage0(page0);
  const algo = parseAlgorithm();
  const zero = wrapPageBuffer(new Uint8Array(16384));
  assert.equal(judgePage(zero, 0, 9, space, algo), F_ZERO);
  const buf = wrapPageBuffer(page0.slice(16384 * 3, 16384 * 4));
  assert.equal(typeof judgePage(buf, 0, 3, space, algo), "number");
  assert.equal(FLAVOURS[judgePage(buf, 0, 3, space, algo) as number], "innodb");
  assert.match(String(judgePage(buf, 0, 9, space, algo)), /page number 3 stored at position 9/);
  buf.bytes[16384 - 1] ^= 1;
  assert.match(String(judgePage(buf, 0, 3, space, algo)), /LSN mismatch/);
  buf.bytes[16384 - 1] ^= 1;
  buf.bytes[200] ^= 1;
  assert.match(String(judgePage(buf, 0, 3, space, algo)), /checksum mismatch \(stored 0x/);
});
