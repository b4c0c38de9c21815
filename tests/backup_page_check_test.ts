import assert from "node:assert/strict";
import { streamFile } from "../lib/server/export.ts";
import { pageChecker } from "../lib/innodb/page_stream.ts";
import { parseAlgorithm } from "../lib/innodb/algorithm.ts";
import { CorruptionError, IoError } from "../lib/errors.ts";
import type { FileEntry } from "../lib/entry.ts";

const LEGACY = new URL("../../shared/ibd-legacy/mysql56/tb04.ibd", import.meta.url).pathname;

/** An entry over `bytes`, cut into chunks of `chunk` bytes (not page-aligned on purpose). */
function entryOf(path: string, bytes: Uint8Array, chunk: number): FileEntry {
  return {
    path,
    size: bytes.length,
    data: (async function* () {
      for (let i = 0; i < bytes.length; i += chunk) yield bytes.subarray(i, i + chunk);
    })(),
  };
}

async function drain(e: FileEntry): Promise<number> {
  let n = 0;
  for await (const c of e.data) n += c.length;
  return n;
}

Deno.test("page check while copying: a clean file passes, whatever the chunking", async () => {
  const bytes = await Deno.readFile(LEGACY);
  const check = pageChecker({ algorithm: parseAlgorithm("crc32") });
  for (const chunk of [1000, 16384, 3 * 16384 + 5, 1 << 20]) {
    assert.equal(await drain(check(entryOf("db/t.ibd", bytes, chunk))), bytes.length);
  }
});

Deno.test("page check while copying: a corrupt page fails with the file, table and page", async () => {
  const bytes = (await Deno.readFile(LEGACY)).slice();
  bytes[2 * 16384 + 500] ^= 0x40;
  const check = pageChecker({ algorithm: parseAlgorithm("crc32"), describe: () => "`db`.`t`" });
  await assert.rejects(() => drain(check(entryOf("db/t.ibd", bytes, 7000))), (err: Error) => {
    assert.ok(err instanceof CorruptionError);
    assert.equal(err.exitCode, 1);
    assert.match(err.message, /^db\/t\.ibd \(`db`\.`t`\): corrupt page in the source: page 2:/);
    return true;
  });
});

Deno.test("page check while copying: a file that is not whole pages fails", async () => {
  const bytes = (await Deno.readFile(LEGACY)).slice(0, 3 * 16384 + 100);
  const check = pageChecker({ algorithm: parseAlgorithm() });
  await assert.rejects(() => drain(check(entryOf("db/t.ibd", bytes, 16384))), /whole number/);
});

Deno.test("streamFile: exact size in chunks, and a file shorter than its size is an IoError", async () => {
  const bytes = await Deno.readFile(LEGACY);
  const seen: number[] = [];
  let total = 0;
  for await (const c of streamFile(LEGACY, bytes.length, "/", 40000, (c) => seen.push(c.length))) {
    total += c.length;
  }
  assert.equal(total, bytes.length);
  assert.ok(seen.every((n, i) => n === 40000 || i === seen.length - 1));
  await assert.rejects(async () => {
    for await (const _ of streamFile(LEGACY, bytes.length + 10, "/", 1 << 20, () => {})) {
      // consume
    }
  }, IoError);
});
