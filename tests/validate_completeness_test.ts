/**
 * `validate --backup-dir` and `validate --backup-image` check completeness against
 * the manifest: missing, truncated, altered and unexpected entries are reported by
 * name with exit 1; a streamed manifest (backup-to-image: empty entry list) is not.
 */
import assert from "node:assert/strict";
import { validateCommand } from "../lib/commands/validate.ts";
import { writeManifest } from "../lib/core/manifest_io.ts";
import { manifestForFiles } from "../lib/backupdir/source.ts";
import { walkFiles } from "../lib/backupdir/walk.ts";
import { writeImage } from "../lib/image/writer.ts";
import type { Manifest } from "../lib/core/manifest.ts";
import type { FileEntry } from "../lib/entry.ts";
import { runCommand as run } from "./fixtures/context.ts";
import { makeTree } from "./fixtures/tree.ts";

const T10K = new URL("../../shared/ibd-legacy/innodb_ruby/t_10k_rows.ibd", import.meta.url)
  .pathname;

async function validate(over: Record<string, unknown>) {
  const log: string[] = [];
  const code = await run(validateCommand, { threads: 1, ...over }, log);
  return { code, text: log.join("") };
}

async function source(tmp: string): Promise<Record<string, Uint8Array>> {
  const files = {
    "db/t.ibd": await Deno.readFile(T10K),
    "db/t.cfg": new TextEncoder().encode("cfg bytes"),
    "notes.txt": new TextEncoder().encode("hello"),
  };
  await makeTree(`${tmp}/src`, files);
  return files;
}

Deno.test("validate --backup-dir: missing, truncated, altered, unexpected entries by name", async () => {
  const tmp = await Deno.makeTempDir();
  try {
    await source(tmp);
    const dir = `${tmp}/src`;
    await writeManifest(dir, await manifestForFiles(dir, await walkFiles(dir)));
    let r = await validate({ backupDir: dir });
    assert.equal(r.code, 0, r.text);
    assert.doesNotMatch(r.text, /missing|unexpected|truncated|altered/);

    await Deno.remove(`${dir}/notes.txt`);
    await Deno.writeTextFile(`${dir}/db/t.cfg`, "cfg");
    await Deno.writeTextFile(`${dir}/db/stray.ibd.tmp`, "x");
    r = await validate({ backupDir: dir });
    assert.equal(r.code, 1, r.text);
    assert.match(r.text, /missing entry: notes\.txt/);
    assert.match(r.text, /truncated entry: db\/t\.cfg \(3 of 9 bytes\)/);
    assert.match(r.text, /unexpected entry \(not in the manifest\): db\/stray\.ibd\.tmp/);

    await Deno.writeTextFile(`${dir}/db/t.cfg`, "cfg BYTES");
    await Deno.writeTextFile(`${dir}/notes.txt`, "hello");
    await Deno.remove(`${dir}/db/stray.ibd.tmp`);
    r = await validate({ backupDir: dir });
    assert.equal(r.code, 1, r.text);
    assert.match(r.text, /altered entry \(CRC-32C mismatch\): db\/t\.cfg/);
    assert.doesNotMatch(r.text, /missing|unexpected|truncated/);
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});

async function* entriesOf(files: Record<string, Uint8Array>): AsyncGenerator<FileEntry> {
  for (const [path, data] of Object.entries(files)) {
    yield { path, size: data.length, mode: 0o640, data: [data].values() as never };
  }
}

async function imageFile(
  file: string,
  manifest: Manifest,
  files: Record<string, Uint8Array>,
): Promise<void> {
  const parts: Uint8Array[] = [];
  for await (
    const b of writeImage(manifest, entriesOf(files), { compress: true, threads: 1 })
  ) parts.push(b.slice());
  await Deno.writeFile(file, new Uint8Array(await new Blob(parts as BlobPart[]).arrayBuffer()));
}

Deno.test("validate --backup-image: entries checked against the manifest by name", async () => {
  const tmp = await Deno.makeTempDir();
  try {
    const files = await source(tmp);
    const manifest = await manifestForFiles(`${tmp}/src`, await walkFiles(`${tmp}/src`));

    const good = `${tmp}/good.img`;
    await imageFile(good, manifest, files);
    let r = await validate({ backupImage: good });
    assert.equal(r.code, 0, r.text);
    assert.doesNotMatch(r.text, /missing|unexpected|truncated|altered/);

    // The manifest lists a file the image lacks, a longer .cfg, and not notes.txt's twin.
    const lying: Manifest = {
      ...manifest,
      entries: [
        ...manifest.entries.map((e) => e.path === "db/t.cfg" ? { ...e, size: e.size + 7 } : e),
        { path: "db/gone.ibd", size: 16384, crc32c: "00000000" },
      ],
    };
    const bad = `${tmp}/bad.img`;
    await imageFile(bad, lying, { ...files, "extra.bin": Uint8Array.of(1, 2, 3) });
    r = await validate({ backupImage: bad });
    assert.equal(r.code, 1, r.text);
    assert.match(r.text, /missing entry: db\/gone\.ibd/);
    assert.match(r.text, /truncated entry: db\/t\.cfg \(9 of 16 bytes\)/);
    assert.match(r.text, /unexpected entry \(not in the manifest\): extra\.bin/);

    const altered = `${tmp}/altered.img`;
    await imageFile(altered, manifest, {
      ...files,
      "notes.txt": new TextEncoder().encode("HELLO"),
    });
    r = await validate({ backupImage: altered });
    assert.equal(r.code, 1, r.text);
    assert.match(r.text, /altered entry \(CRC-32C mismatch\): notes\.txt/);
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});

Deno.test("validate --backup-image: a streamed manifest (empty entry list) is not incomplete", async () => {
  const tmp = await Deno.makeTempDir();
  try {
    const files = await source(tmp);
    const manifest = await manifestForFiles(`${tmp}/src`, []);
    assert.equal(manifest.entries.length, 0);
    const img = `${tmp}/streamed.img`;
    await imageFile(img, manifest, files);
    const r = await validate({ backupImage: img });
    assert.equal(r.code, 0, r.text);
    assert.doesNotMatch(r.text, /missing|unexpected|truncated|altered/);
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});
