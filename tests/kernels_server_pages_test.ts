import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { crc32c } from "../lib/kernels/mod.ts";
import { startServer } from "../scripts/throwaway_server.ts";

/** Every page of the tablespaces (.ibd and ibdata1) under a stopped server's data directory. */
function* pages(datadir: string, pageSize: number): Generator<[string, number, Uint8Array]> {
  const files = [join(datadir, "ibdata1")];
  for (const db of ["mysql", "t"]) {
    for (const f of readdirSync(join(datadir, db))) {
      if (f.endsWith(".ibd")) files.push(join(datadir, db, f));
    }
  }
  for (const file of files) {
    const data = readFileSync(file);
    for (let off = 0; off + pageSize <= data.length; off += pageSize) {
      const page = data.subarray(off, off + pageSize);
      if (page.every((b) => b === 0)) continue;
      yield [file, off / pageSize, page];
    }
  }
}

async function datadirWith(checksumAlgorithm: string, pageSize: number): Promise<string> {
  const srv = await startServer({ checksumAlgorithm, pageSize });
  try {
    await srv.query(
      "CREATE DATABASE t; CREATE TABLE t.a (id INT PRIMARY KEY, v VARCHAR(200)) ENGINE=InnoDB;",
    );
    const values = Array.from({ length: 2000 }, (_, i) => `(${i}, REPEAT('x${i}', ${i % 30}))`);
    await srv.query(`INSERT INTO t.a VALUES ${values.join(",")}`);
  } finally {
    await srv.stop({ keepDatadir: true });
  }
  return srv.datadir;
}

Deno.test({
  name: "crc32c: matches the crc32 and full_crc32 checksums of real MariaDB pages",
  async fn() {
    assert.ok(existsSync("/usr/sbin/mariadbd"), "mariadbd is missing: run scripts/bootstrap");
    for (const [algorithm, pageSize] of [["crc32", 16384], ["full_crc32", 8192]] as const) {
      const datadir = await datadirWith(algorithm, pageSize);
      try {
        let checked = 0;
        for (const [file, no, page] of pages(datadir, pageSize)) {
          const dv = new DataView(page.buffer, page.byteOffset, page.length);
          const where = `${algorithm} ${file} page ${no}`;
          if (algorithm === "crc32") {
            const sum = (crc32c(page.subarray(4, 26)) ^ crc32c(page.subarray(38, pageSize - 8))) >>>
              0;
            assert.equal(sum, dv.getUint32(0), where);
          } else {
            assert.equal(crc32c(page.subarray(0, pageSize - 4)), dv.getUint32(pageSize - 4), where);
          }
          checked++;
        }
        assert.ok(checked > 50, `${algorithm}: ${checked} pages`);
      } finally {
        await Deno.remove(datadir, { recursive: true });
      }
    }
  },
});
