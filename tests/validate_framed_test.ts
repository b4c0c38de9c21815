/**
 * Framed tablespaces in directories (issue 14 item 7) and table names from paths
 * everywhere (item 6): a directory written by `extract --keep-compressed` (`.lz4`
 * files), files compressed by the `lz4` and `zstd` tools, damaged frames; and
 * `list-image` of an image made from a plain datadir-like directory showing the
 * decoded table names that `validate --datadir` shows. The tablespaces are real
 * ones (../shared/ibd-legacy, MySQL 5.x files; SOURCES.tsv names their origin).
 */
import assert from "node:assert/strict";
import { validateCommand } from "../lib/commands/validate.ts";
import { backupDirToImageCommand } from "../lib/commands/backup_dir_to_image.ts";
import { extractCommand } from "../lib/commands/extract.ts";
import { listImageCommand } from "../lib/commands/list_image.ts";
import type { Command } from "../lib/commands/command.ts";
import { defaultOptions, type Options } from "../lib/commands/options.ts";
import { createReporter } from "../lib/progress/reporter.ts";
import type { ValidationReport } from "../lib/innodb/report.ts";

const LEGACY = new URL("../../shared/ibd-legacy/", import.meta.url).pathname;
const T10K = LEGACY + "innodb_ruby/t_10k_rows.ibd";
const FILM = LEGACY + "sakila50/film.ibd";

async function runCmd(cmd: Command, opts: Partial<Options>, args: string[] = []) {
  let text = "";
  let json: unknown;
  const code = await cmd.run({
    options: { ...defaultOptions(2), threads: 1, ...opts },
    args,
    report: createReporter({ showProgress: false, write: (s) => void (text += s) }),
    signal: new AbortController().signal,
    printJson: (v) => void (json = v),
  });
  return { code, text, json };
}

async function sh(cmd: string, args: string[]): Promise<void> {
  const r = await new Deno.Command(cmd, { args, stdout: "null", stderr: "piped" }).output();
  assert.ok(r.success, `${cmd} ${args.join(" ")}: ${new TextDecoder().decode(r.stderr)}`);
}

/** A datadir-like tree: two databases, one with an encoded name, real tablespaces. */
async function datadirLike(root: string): Promise<void> {
  await Deno.mkdir(`${root}/shop`, { recursive: true });
  await Deno.mkdir(`${root}/we@0020ird`, { recursive: true });
  await Deno.copyFile(T10K, `${root}/shop/t_10k_rows.ibd`);
  await Deno.copyFile(FILM, `${root}/we@0020ird/@0gbc.ibd`);
  await Deno.writeTextFile(`${root}/shop/db.opt`, "default-character-set=utf8mb4\n");
}

Deno.test("extract --keep-compressed: the .lz4 directory validates transparently, damage is found", async () => {
  const tmp = await Deno.makeTempDir({ prefix: "ibvault-framed-" });
  try {
    await datadirLike(`${tmp}/src`);
    const img = `${tmp}/x.ibv`;
    assert.equal(
      (await runCmd(backupDirToImageCommand, {
        backupDir: `${tmp}/src`,
        backupImage: img,
        compress: true,
      })).code,
      0,
    );
    const out = `${tmp}/kept`;
    assert.equal(
      (await runCmd(extractCommand, { backupImage: img, backupDir: out, keepCompressed: true }))
        .code,
      0,
    );
    const kept = await Deno.stat(`${out}/shop/t_10k_rows.ibd.lz4`);
    assert.ok(kept.isFile);
    const r = await runCmd(validateCommand, { datadir: out, json: true });
    assert.equal(r.code, 0, r.text);
    const files = (r.json as ValidationReport).files;
    const t = files.find((f) => f.name === "shop/t_10k_rows.ibd.lz4")!;
    assert.equal(t.status, "valid");
    assert.equal(t.table, "`shop`.`t_10k_rows`");
    assert.equal(t.pages, (await Deno.stat(T10K)).size / 16384);
    assert.equal(files.find((f) => f.name === "we@0020ird/@0gbc.ibd.lz4")?.table, "`we ird`.`àbc`");

    // A page byte changed before compressing (the frame itself is sound): the page checks see it.
    const file = `${out}/shop/t_10k_rows.ibd.lz4`;
    await sh("lz4", ["-d", "-q", "-f", file, `${tmp}/plain.ibd`]);
    const plain = await Deno.readFile(`${tmp}/plain.ibd`);
    plain[3 * 16384 + 2000] ^= 0x01;
    await Deno.writeFile(`${tmp}/plain.ibd`, plain);
    await Deno.remove(file);
    await sh("lz4", ["-q", "-f", `${tmp}/plain.ibd`, file]);
    const bad = await runCmd(validateCommand, { datadir: out, verbose: true });
    assert.equal(bad.code, 1, bad.text);
    assert.match(
      bad.text,
      /shop\/t_10k_rows\.ibd\.lz4 \(`shop`\.`t_10k_rows`\) is corrupt and has : 1 corrupt pages/,
    );
    assert.match(bad.text, /page 3: /);

    // A damaged frame (the lz4 tool writes a content checksum) is named.
    const frame = await Deno.readFile(file);
    frame[frame.length - 2] ^= 0xff;
    await Deno.writeFile(file, frame);
    const broken = await runCmd(validateCommand, { datadir: out });
    assert.equal(broken.code, 1, broken.text);
    assert.match(broken.text, /shop\/t_10k_rows\.ibd\.lz4: LZ4 frame 0: content checksum mismatch/);
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});

Deno.test("zstd-framed tablespaces (.ibd.zst, the zstd tool) validate; a damaged frame is named", async () => {
  const tmp = await Deno.makeTempDir({ prefix: "ibvault-framed-" });
  try {
    await Deno.mkdir(`${tmp}/d/shop`, { recursive: true });
    await sh("zstd", ["-q", "-3", T10K, "-o", `${tmp}/d/shop/t.ibd.zst`]);
    const r = await runCmd(validateCommand, { datadir: `${tmp}/d`, json: true });
    assert.equal(r.code, 0, r.text);
    const f = (r.json as ValidationReport).files[0];
    assert.deepEqual([f.name, f.status, f.table], ["shop/t.ibd.zst", "valid", "`shop`.`t`"]);
    assert.equal(f.pages, (await Deno.stat(T10K)).size / 16384);
    // Also when named on the command line.
    const one = await runCmd(validateCommand, {}, [`${tmp}/d/shop/t.ibd.zst`]);
    assert.equal(one.code, 0, one.text);
    const z = await Deno.readFile(`${tmp}/d/shop/t.ibd.zst`);
    z[Math.floor(z.length / 2)] ^= 0x10;
    await Deno.writeFile(`${tmp}/d/shop/t.ibd.zst`, z);
    const bad = await runCmd(validateCommand, { datadir: `${tmp}/d` });
    assert.equal(bad.code, 1, bad.text);
    assert.match(bad.text, /shop\/t\.ibd\.zst: zstd frame 0: does not decompress/);
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});

Deno.test("list-image of a plain datadir-like image names tables as validate --datadir does", async () => {
  const tmp = await Deno.makeTempDir({ prefix: "ibvault-names-" });
  try {
    await datadirLike(`${tmp}/src`);
    const img = `${tmp}/x.ibv`;
    assert.equal(
      (await runCmd(backupDirToImageCommand, { backupDir: `${tmp}/src`, backupImage: img })).code,
      0,
    );
    const listed = await runCmd(listImageCommand, { backupImage: img, json: true });
    assert.equal(listed.code, 0);
    const rows = (listed.json as { entries: { path: string; table?: string }[] }).entries;
    const v = await runCmd(validateCommand, { datadir: `${tmp}/src`, json: true });
    assert.equal(v.code, 0, v.text);
    for (const f of (v.json as ValidationReport).files.filter((f) => f.name.endsWith(".ibd"))) {
      assert.equal(rows.find((r) => r.path === f.name)?.table, f.table, f.name);
    }
    assert.equal(rows.find((r) => r.path === "we@0020ird/@0gbc.ibd")?.table, "`we ird`.`àbc`");
    assert.equal(rows.find((r) => r.path === "shop/db.opt")?.table, undefined);
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});
