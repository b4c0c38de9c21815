/**
 * MariaDB data-at-rest encryption with innodb_checksum_algorithm=crc32 (not
 * full_crc32): a throwaway MariaDB with the file_key_management plugin writes
 * encrypted tables (plain, ROW_FORMAT=COMPRESSED, PAGE_COMPRESSED) and an
 * unencrypted one. Every page but page 0 then holds the key version in bytes
 * 26..29 and the post-encryption checksum in bytes 30..33 (MariaDB
 * fil_space_verify_crypt_checksum). ibvault must call every page of the clean
 * files valid, agreeing with MariaDB's innochecksum, and find pages corrupted
 * afterwards, again as innochecksum does.
 */
import assert from "node:assert/strict";
import { startServer } from "../scripts/throwaway_server.ts";
import { validateFiles } from "../lib/innodb/validator.ts";
import { parseAlgorithm } from "../lib/innodb/algorithm.ts";
import { spaceInfoFromPage0 } from "../lib/innodb/flags.ts";

async function innochecksumFails(path: string): Promise<Set<number>> {
  const out = await new Deno.Command("innochecksum", {
    args: ["-a", "100000000", path],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stderr) + new TextDecoder().decode(out.stdout);
  return new Set([...text.matchAll(/Fail: page::(\d+) invalid/g)].map((m) => Number(m[1])));
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

function flip(path: string, offset: number): void {
  const b = readAt(path, offset, 1);
  const f = Deno.openSync(path, { write: true });
  try {
    f.seekSync(offset, Deno.SeekMode.Start);
    f.writeSync(new Uint8Array([b[0] ^ 0x5a]));
  } finally {
    f.close();
  }
}

Deno.test("MariaDB encrypted tablespaces (crc32): clean files valid, corrupted pages found, as innochecksum", async () => {
  const keyDir = await Deno.makeTempDir();
  const keyFile = `${keyDir}/keys.txt`;
  await Deno.writeTextFile(keyFile, `1;${"ab".repeat(32)}\n2;${"cd".repeat(32)}\n`);
  const srv = await startServer({
    checksumAlgorithm: "crc32",
    extraArgs: [
      "--plugin-load-add=file_key_management",
      `--file-key-management-filename=${keyFile}`,
      "--innodb-encrypt-tables=ON",
      "--innodb-encryption-threads=1",
    ],
  });
  const datadir = srv.datadir;
  try {
    try {
      await srv.query("CREATE DATABASE e");
      const cols = "(id INT PRIMARY KEY, v VARCHAR(500))";
      await srv.query(`CREATE TABLE e.t ${cols}`);
      await srv.query(`CREATE TABLE e.z ${cols} ROW_FORMAT=COMPRESSED KEY_BLOCK_SIZE=8`);
      await srv.query(`CREATE TABLE e.pc ${cols} PAGE_COMPRESSED=1`);
      await srv.query(`CREATE TABLE e.k2 ${cols} ENCRYPTION_KEY_ID=2`);
      await srv.query(`CREATE TABLE e.plain ${cols} ENCRYPTED=NO`);
      for (const t of ["t", "z", "pc", "k2", "plain"]) {
        await srv.query(`INSERT INTO e.${t} SELECT seq, REPEAT(MD5(seq), 10) FROM e.seq_1_to_4000`);
      }
      const rows = await srv.query<{ NAME: string; ENCRYPTION_SCHEME: number }[]>(
        "SELECT NAME, ENCRYPTION_SCHEME FROM information_schema.INNODB_TABLESPACES_ENCRYPTION WHERE NAME LIKE 'e/%'",
      );
      assert.deepEqual(
        rows.filter((r) => r.ENCRYPTION_SCHEME === 1).map((r) => r.NAME).sort(),
        ["e/k2", "e/pc", "e/t", "e/z"],
      );
    } finally {
      await srv.stop({ keepDatadir: true });
    }
    const files = ["t", "z", "pc", "k2", "plain"].map((t) => `${datadir}/e/${t}.ibd`);
    files.push(`${datadir}/ibdata1`);
    for (const f of files.slice(0, 4)) {
      assert.equal(spaceInfoFromPage0(readAt(f, 0, 16384)).mariadbCrypt, true, f);
    }
    assert.equal(spaceInfoFromPage0(readAt(files[4], 0, 16384)).mariadbCrypt, false);

    // Clean: no page is corrupt, under the default and under strict_crc32; the
    // encrypted pages are proved by their post-encryption crc32.
    for (const algorithm of ["crc32", "strict_crc32"]) {
      const reports = await validateFiles(files.map((p) => ({ path: p, name: p })), {
        threads: 1,
        algorithm: parseAlgorithm(algorithm),
      });
      for (const r of reports) {
        assert.equal(r.status, "valid", `${r.name} ${algorithm}: ${JSON.stringify(r.corrupt[0])}`);
        assert.ok(r.pages > 2);
      }
      assert.ok(reports[0].flavours.encrypted_crc32 > 10, JSON.stringify(reports[0].flavours));
      assert.ok(reports[1].flavours.encrypted_crc32 > 2, JSON.stringify(reports[1].flavours));
      assert.ok(reports[3].flavours.encrypted_crc32 > 10);
      assert.equal(reports[4].flavours.encrypted_crc32, undefined);
    }
    for (const f of files.slice(0, 5)) {
      assert.deepEqual(await innochecksumFails(f), new Set(), `${f} clean (innochecksum)`);
    }

    // Corrupted: a body byte of page 3 and the stored post-encryption checksum of page 4.
    for (const f of [files[0], files[1], files[3]]) {
      const ps = spaceInfoFromPage0(readAt(f, 0, 16384)).physicalSize;
      flip(f, 3 * ps + Math.floor(ps / 2));
      flip(f, 4 * ps + 31);
      const [r] = await validateFiles([{ path: f, name: f }], { threads: 0 });
      assert.equal(r.status, "corrupt", f);
      assert.deepEqual(r.corrupt.map((c) => c.page), [3, 4], f);
      assert.match(r.corrupt[0].reason, /post-encryption checksum mismatch/);
      assert.deepEqual(await innochecksumFails(f), new Set([3, 4]), `${f} (innochecksum)`);
    }
  } finally {
    await Deno.remove(datadir, { recursive: true });
    await Deno.remove(keyDir, { recursive: true });
  }
});
