/**
 * The validate command end to end (in process): exact report lines, exit codes,
 * --json, the threshold, the stream front end, and every bad input. Running as
 * root, chmod 000 does not make a file unreadable, so unreadable files are made
 * as a dangling symlink, a FIFO and a directory, each named x.ibd.
 */
import assert from "node:assert/strict";
import { validateCommand } from "../lib/commands/validate.ts";
import type { Options } from "../lib/commands/options.ts";
import { validateEntries } from "../lib/innodb/stream.ts";
import { validateFiles } from "../lib/innodb/validator.ts";
import type { FileEntry } from "../lib/entry.ts";
import type { ValidationReport } from "../lib/innodb/report.ts";
import { testContext } from "./fixtures/context.ts";

const LEGACY = new URL("../../shared/ibd-legacy/", import.meta.url).pathname;
const T10K = LEGACY + "innodb_ruby/t_10k_rows.ibd";
const UNICODE = "t@0gbl@0p@0020@20ac.ibd";

async function runValidate(
  opts: Partial<Options>,
  args: string[] = [],
): Promise<{ code: number; lines: string[]; json?: ValidationReport }> {
  const ctx = testContext({ threads: 1, ...opts }, { args, printed: true });
  const code = await validateCommand.run(ctx);
  return { code, lines: ctx.report.lines, json: ctx.json[0] as ValidationReport | undefined };
}

function corruptPages(path: string, pages: number[]): void {
  const f = Deno.openSync(path, { read: true, write: true });
  for (const p of pages) {
    f.seekSync(p * 16384 + 1000, Deno.SeekMode.Start);
    f.writeSync(new Uint8Array([1, 2, 3, 4]));
  }
  f.close();
}

Deno.test("datadir: exact corruption line with the Unicode name, verbose pages, exit 1", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.mkdir(`${dir}/d`);
    await Deno.copyFile(T10K, `${dir}/d/${UNICODE}`);
    await Deno.copyFile(T10K, `${dir}/d/ok.ibd`);
    await Deno.writeTextFile(`${dir}/d/ok.frm`, "frm");
    corruptPages(`${dir}/d/${UNICODE}`, [4, 6]);
    const r = await runValidate({ datadir: dir, verbose: true, json: true });
    assert.equal(r.code, 1);
    assert.ok(
      r.lines.includes(
        "ibvault: ERROR: d/t@0gbl@0p@0020@20ac.ibd (`d`.`tàblé €`) is corrupt and has : 2 corrupt pages",
      ),
      r.lines.join("\n"),
    );
    assert.ok(r.lines.some((l) => /page 4: checksum mismatch/.test(l)));
    assert.ok(r.lines.some((l) => l.includes("d/ok.frm: not validated")));
    const j = r.json!;
    assert.equal(j.totals.corruptPages, 2);
    assert.equal(j.totals.notValidated, 1);
    const bad = j.files.find((f) => f.name.endsWith(UNICODE))!;
    assert.deepEqual(bad.corrupt.map((c) => c.page), [4, 6]);
    assert.equal(bad.flavour, "innodb");
    assert.ok(j.totals.mbPerSecond >= 0);
    // threshold: stop after 1, report "at least 1"
    const t = await runValidate({ datadir: dir, pageCorruptThreshold: 1 });
    assert.ok(t.lines.some((l) => l.endsWith("is corrupt and has : at least 1 corrupt pages")));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("bad inputs: clear per-file errors, the run continues, exit 3", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeFile(`${dir}/empty.ibd`, new Uint8Array(0));
    await Deno.writeFile(`${dir}/tiny.ibd`, new Uint8Array(100));
    await Deno.symlink(`${dir}/nowhere`, `${dir}/dangling.ibd`);
    await new Deno.Command("mkfifo", { args: [`${dir}/fifo.ibd`] }).output();
    await Deno.mkdir(`${dir}/dir.ibd`);
    const trunc = await Deno.readFile(T10K);
    await Deno.writeFile(`${dir}/trunc.ibd`, trunc.subarray(0, 16384 * 3 + 100));
    await Deno.copyFile(T10K, `${dir}/good.ibd`);
    const names = ["empty", "tiny", "dangling", "fifo", "dir", "trunc", "good"];
    const r = await runValidate({ json: true }, names.map((n) => `${dir}/${n}.ibd`));
    const byName = (n: string) => r.json!.files.find((f) => f.name.endsWith(`/${n}.ibd`))!;
    assert.equal(byName("empty").status, "error");
    assert.match(byName("empty").error!, /empty file/);
    assert.match(byName("tiny").error!, /too small/);
    assert.match(byName("dangling").error!, /no such file/);
    assert.match(byName("fifo").error!, /not a regular file/);
    assert.match(byName("dir").error!, /directory/);
    assert.equal(byName("trunc").status, "corrupt");
    assert.match(byName("trunc").corrupt[0].reason, /truncated/);
    assert.equal(byName("good").status, "valid");
    assert.equal(r.code, 1); // corruption (the truncated file) wins over unreadable files
    const onlyBad = await runValidate({}, [`${dir}/empty.ibd`, `${dir}/good.ibd`]);
    assert.equal(onlyBad.code, 3);
    assert.ok(onlyBad.lines.some((l) => l.startsWith("ibvault: ERROR: cannot validate")));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a directory without InnoDB files: error, exit 3", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/notes.txt`, "x");
    const r = await runValidate({ datadir: dir });
    assert.equal(r.code, 3);
    assert.ok(r.lines.some((l) => l.includes("no InnoDB files found")));
    // As a backup directory it is not one: it has no manifest (exit 1).
    await assert.rejects(() => runValidate({ backupDir: dir }), (e: unknown) => {
      assert.equal((e as { exitCode?: number }).exitCode, 1);
      assert.match((e as Error).message, /is not a valid backup: it has no ibvault_manifest\.json/);
      return true;
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("all valid: exit 0, summary line", async () => {
  const r = await runValidate({}, [T10K, LEGACY + "mysql56/tb04.ibd"]);
  assert.equal(r.code, 0);
  assert.match(r.lines[r.lines.length - 1], /validated 2 of 2 files: \d+ pages, 0 corrupt pages/);
});

Deno.test("stream front end: pages reassembled across odd chunk sizes", async () => {
  const data = await Deno.readFile(T10K);
  const copy = data.slice();
  copy[5 * 16384 + 999] ^= 0xff;
  async function* chunks(b: Uint8Array, step: number) {
    for (let i = 0; i < b.length; i += step) yield b.subarray(i, Math.min(b.length, i + step));
  }
  async function* entries(): AsyncGenerator<FileEntry> {
    yield { path: "d/good.ibd", size: data.length, data: chunks(data, 777) };
    yield { path: `d/${UNICODE}`, size: copy.length, data: chunks(copy, 1 << 20) };
    yield { path: "d/t.frm", size: 3, data: chunks(new Uint8Array(3), 1) };
    yield { path: "d/empty.ibd", size: 0, data: chunks(new Uint8Array(0), 1) };
  }
  const r = await validateEntries(entries());
  assert.equal(r[0].status, "valid");
  const [file] = await validateFiles([{ path: T10K, name: "x" }], { threads: 0 });
  assert.equal(r[0].pages, file.pages);
  assert.equal(r[1].status, "corrupt");
  assert.equal(r[1].table, "`d`.`tàblé €`");
  assert.deepEqual(r[1].corrupt.map((c) => c.page), [5]);
  assert.equal(r[2].status, "not-validated");
  assert.equal(r[3].status, "error");
});

Deno.test("workers: the pool gives the same verdicts as the calling thread", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.copyFile(T10K, `${dir}/a.ibd`);
    corruptPages(`${dir}/a.ibd`, [2, 9, 17]);
    const inputs = [{ path: `${dir}/a.ibd`, name: "a" }, { path: T10K, name: "b" }];
    const pooled = await validateFiles(inputs, { threads: 2, blockSize: 16384 * 4 });
    const inline = await validateFiles(inputs, { threads: 0 });
    assert.deepEqual(pooled, inline);
    assert.deepEqual(pooled[0].corrupt.map((c) => c.page), [2, 9, 17]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("backup dir: the manifest's algorithm is used unless overridden", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.mkdir(`${dir}/d`);
    await Deno.copyFile(T10K, `${dir}/d/t.ibd`);
    await Deno.writeTextFile(`${dir}/d/t.cfg`, "cfg");
    const manifest = {
      format: "ibvault-manifest",
      version: 1,
      tool: { name: "ibvault", version: "0" },
      createdAt: new Date().toISOString(),
      server: {
        flavor: "mysql",
        version: "5.6",
        pageSize: 16384,
        checksumAlgorithm: "strict_crc32",
        lowerCaseTableNames: 0,
      },
      options: {},
      databases: [],
      tables: [],
      entries: [],
    };
    await Deno.writeTextFile(`${dir}/ibvault_manifest.json`, JSON.stringify(manifest));
    const strict = await runValidate({ backupDir: dir, json: true });
    assert.equal(strict.code, 1); // legacy innodb checksums fail strict_crc32
    assert.equal(strict.json!.algorithm, "strict_crc32");
    assert.equal(strict.json!.totals.notValidated, 1); // t.cfg
    const over = await runValidate({ backupDir: dir, innodbChecksumAlgorithm: "innodb" });
    assert.equal(over.code, 0);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("backup image: entries validated from the stream", async () => {
  const { writeImage } = await import("../lib/image/writer.ts");
  const dir = await Deno.makeTempDir();
  try {
    const good = await Deno.readFile(T10K);
    const bad = good.slice();
    bad[7 * 16384 + 3000] ^= 0x10;
    const chunks = async function* (b: Uint8Array) {
      for (let i = 0; i < b.length; i += 100_000) yield b.subarray(i, i + 100_000);
    };
    const entries = async function* (): AsyncGenerator<FileEntry> {
      yield { path: "d/good.ibd", size: good.length, data: chunks(good) };
      yield { path: `d/${UNICODE}`, size: bad.length, data: chunks(bad) };
    };
    const manifest = {
      format: "ibvault-manifest" as const,
      version: 1 as const,
      tool: { name: "ibvault" as const, version: "0" },
      createdAt: new Date().toISOString(),
      options: {},
      databases: [],
      tables: [],
      entries: [],
    };
    const f = await Deno.open(`${dir}/x.img`, { write: true, create: true });
    for await (const b of writeImage(manifest, entries(), { compress: true, threads: 0 })) {
      await f.write(b);
    }
    f.close();
    const r = await runValidate({ backupImage: `${dir}/x.img`, json: true });
    assert.equal(r.code, 1, r.lines.join("\n"));
    assert.ok(
      r.lines.includes(
        "ibvault: ERROR: d/t@0gbl@0p@0020@20ac.ibd (`d`.`tàblé €`) is corrupt and has : 1 corrupt pages",
      ),
      r.lines.join("\n"),
    );
    assert.deepEqual(r.json!.files.map((x) => x.status), ["valid", "corrupt"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
