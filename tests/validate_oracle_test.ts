/**
 * ibvault's per-page verdicts against innochecksum's on real tablespaces: a
 * throwaway MariaDB writes tables in crc32 and full_crc32 modes (plain,
 * ROW_FORMAT=COMPRESSED with every KEY_BLOCK_SIZE, PAGE_COMPRESSED=1, a
 * special-character name); the copies get chosen pages corrupted; both tools
 * judge them page by page.
 *
 * innochecksum (MariaDB 10.11) accepts only crc32 on classic pages, skips pages
 * its extent descriptors mark free and stops at a bad page 0, so ibvault runs
 * with strict_crc32 for the comparison, the corrupted pages are pages in use,
 * and a bad page 0 is compared on page 0 alone. The system tablespace is
 * compared outside its doublewrite buffer (copies of other pages, which
 * innochecksum 10.11 reports as invalid and ibvault skips).
 */
import assert from "node:assert/strict";
import { startServer } from "../scripts/throwaway_server.ts";
import { validateFiles } from "../lib/innodb/validator.ts";
import { parseAlgorithm } from "../lib/innodb/algorithm.ts";
import { spaceInfoFromPage0 } from "../lib/innodb/flags.ts";

const TABLES = ["plain", "z1", "z2", "z4", "z8", "z16", "pc", "tàblé €"];

async function makeDatadir(checksumAlgorithm: string, pageSize?: number): Promise<string> {
  const srv = await startServer({ checksumAlgorithm, pageSize });
  const ps = pageSize ?? 16384;
  const zipOk = (t: string) =>
    !t.startsWith("z") || (ps <= 16384 && Number(t.slice(1)) * 1024 <= ps);
  try {
    await srv.query("CREATE DATABASE d");
    const cols = "(id INT PRIMARY KEY AUTO_INCREMENT, v VARCHAR(200))";
    await srv.query(`CREATE TABLE d.plain ${cols}`);
    for (const k of [1, 2, 4, 8, 16].filter((k) => zipOk(`z${k}`))) {
      await srv.query(`CREATE TABLE d.z${k} ${cols} ROW_FORMAT=COMPRESSED KEY_BLOCK_SIZE=${k}`);
    }
    await srv.query(`CREATE TABLE d.pc ${cols} PAGE_COMPRESSED=1`);
    await srv.query(`CREATE TABLE d.\`tàblé €\` ${cols}`);
    for (const t of TABLES.filter(zipOk)) {
      await srv.query(
        `INSERT INTO d.\`${t}\` (v) SELECT REPEAT(MD5(seq), 5) FROM d.seq_1_to_3000`,
      );
    }
  } finally {
    await srv.stop({ keepDatadir: true });
  }
  return srv.datadir;
}

/** innochecksum's invalid pages of a file (`Fail: page::N invalid` lines). */
async function innochecksumFails(path: string): Promise<Set<number>> {
  const out = await new Deno.Command("innochecksum", {
    args: ["-a", "100000000", path],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stderr) + new TextDecoder().decode(out.stdout);
  return new Set([...text.matchAll(/Fail: page::(\d+) invalid/g)].map((m) => Number(m[1])));
}

async function ibvaultFails(
  path: string,
  algorithm: string,
  threads = 0,
): Promise<Set<number>> {
  const [r] = await validateFiles([{ path, name: path }], {
    threads,
    algorithm: parseAlgorithm(algorithm),
    threshold: 1_000_000,
  });
  assert.notEqual(r.status, "error", r.error ?? "");
  return new Set(r.corrupt.map((c) => c.page));
}

function patch(path: string, offset: number, bytes: number[] | Uint8Array): void {
  const f = Deno.openSync(path, { write: true });
  try {
    f.seekSync(offset, Deno.SeekMode.Start);
    f.writeSync(bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes));
  } finally {
    f.close();
  }
}

function readAt(path: string, offset: number, n: number): Uint8Array {
  const f = Deno.openSync(path);
  try {
    const b = new Uint8Array(n);
    f.seekSync(offset, Deno.SeekMode.Start);
    f.readSync(b);
    return b;
  } finally {
    f.close();
  }
}

/** Corrupt pages 3..7 of a tablespace in five ways; returns the pages expected corrupt. */
function corruptFile(path: string): { expectCorrupt: number[]; zeroed: number } {
  const space = spaceInfoFromPage0(readAt(path, 0, 1024));
  const ps = space.physicalSize;
  const at = (p: number) => p * ps;
  const flip = (off: number) => patch(path, off, [readAt(path, off, 1)[0] ^ 0x5a]);
  flip(at(3) + Math.floor(ps / 2)); // a body byte
  flip(at(4) + 1); // stored checksum (classic) / key version area (full_crc32: still covered)
  if (space.fullCrc32) flip(at(4) + ps - 2); // the stored full_crc32 checksum itself
  flip(at(5) + ps - 1); // trailer: LSN low byte (classic), checksum (full_crc32)
  flip(at(6) + 7); // page number field
  patch(path, at(7), new Uint8Array(ps)); // a whole page zeroed: stays valid
  return { expectCorrupt: [3, 4, 5, 6], zeroed: 7 };
}

for (const mode of ["crc32", "full_crc32"]) {
  Deno.test(`validate matches innochecksum page by page (${mode})`, async () => {
    const datadir = await makeDatadir(mode);
    const strict = mode === "crc32" ? "strict_crc32" : "strict_full_crc32";
    try {
      // The clean files: both tools find nothing (outside the doublewrite buffer).
      for (const t of ["plain", "z1", "z2", "z4", "z8", "z16", "pc", "t@0gbl@0p@0020@20ac"]) {
        const f = `${datadir}/d/${t}.ibd`;
        assert.deepEqual(await ibvaultFails(f, strict), new Set(), `${t} clean`);
        assert.deepEqual(await innochecksumFails(f), new Set(), `${t} clean (innochecksum)`);
      }
      const sys = await ibvaultFails(`${datadir}/ibdata1`, strict);
      const sysOracle = [...await innochecksumFails(`${datadir}/ibdata1`)].filter((p) =>
        p < 64 || p >= 192
      );
      assert.deepEqual(sys, new Set(sysOracle));

      // Corrupted copies: same verdicts, page by page.
      for (const t of ["plain", "z1", "z2", "z4", "z8", "z16", "pc", "t@0gbl@0p@0020@20ac"]) {
        const f = `${datadir}/d/${t}.ibd`;
        const { expectCorrupt } = corruptFile(f);
        const oracle = await innochecksumFails(f);
        const mine = await ibvaultFails(f, strict, t === "plain" ? 2 : 0);
        const lenient = await ibvaultFails(f, "any");
        // innochecksum skips classic page_compressed pages entirely; ibvault still checks
        // their page number (as the server's page id check on read does).
        if (mode === "crc32" && t === "pc") oracle.add(6);
        assert.deepEqual(mine, oracle, `${mode} ${t}: ibvault vs innochecksum`);
        assert.deepEqual(lenient, oracle, `${mode} ${t}: non-strict vs innochecksum`);
        if (t === "pc") {
          // classic page_compressed pages carry no checksum: nothing to find there;
          // full_crc32 ones cover only the compressed payload (not mid-page, not the tail)
          expectCorrupt.splice(0, 4, ...(mode === "crc32" ? [6] : [4, 6]));
        }
        assert.deepEqual([...mine].sort((a, b) => a - b), expectCorrupt, `${mode} ${t}`);
      }

      // A bad page 0: innochecksum stops there; both call page 0 invalid.
      const f0 = `${datadir}/d/plain.ibd`;
      patch(f0, 200, [0xff, 0xee]);
      assert.ok((await innochecksumFails(f0)).has(0));
      assert.ok((await ibvaultFails(f0, strict)).has(0));
    } finally {
      await Deno.remove(datadir, { recursive: true });
    }
  });
}

for (const [mode, pageSize] of [["full_crc32", 4096], ["crc32", 65536]] as const) {
  Deno.test(`validate matches innochecksum with innodb_page_size=${pageSize} (${mode})`, async () => {
    const datadir = await makeDatadir(mode, pageSize);
    const strict = mode === "crc32" ? "strict_crc32" : "strict_full_crc32";
    try {
      const names = pageSize === 4096 ? ["plain", "z1", "z2", "z4"] : ["plain"];
      for (const t of names) {
        const f = `${datadir}/d/${t}.ibd`;
        assert.equal(spaceInfoFromPage0(readAt(f, 0, 1024)).logicalSize, pageSize);
        assert.deepEqual(await ibvaultFails(f, strict), new Set());
        const { expectCorrupt } = corruptFile(f);
        const oracle = await innochecksumFails(f);
        assert.deepEqual(await ibvaultFails(f, strict), oracle, t);
        assert.deepEqual([...oracle].sort((a, b) => a - b), expectCorrupt, t);
      }
    } finally {
      await Deno.remove(datadir, { recursive: true });
    }
  });
}
