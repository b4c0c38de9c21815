/**
 * The built single binary (dist/ibvault, made by `deno task compile`, which the
 * test task runs first), run from a temp directory with no repository beside it.
 */
import assert from "node:assert/strict";
import { copyFileSync, existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const built = fileURLToPath(new URL("../dist/ibvault", import.meta.url));
const legacy = fileURLToPath(new URL("../../shared/ibd-legacy/", import.meta.url));

function runBinary(args: string[], cwd: string) {
  const out = new Deno.Command(join(cwd, "ibvault"), {
    args,
    cwd,
    stdout: "piped",
    stderr: "piped",
  })
    .outputSync();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

function withCopiedBinary(fn: (dir: string) => void) {
  assert.ok(existsSync(built), "dist/ibvault is missing: run deno task compile first");
  const dir = mkdtempSync(join(tmpdir(), "ibvault-bin-"));
  try {
    copyFileSync(built, join(dir, "ibvault"));
    Deno.chmodSync(join(dir, "ibvault"), 0o755);
    fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

Deno.test("binary: --version and --help work from a directory outside the repo", () => {
  withCopiedBinary((dir) => {
    const v = runBinary(["--version"], dir);
    assert.equal(v.code, 0);
    assert.match(v.stdout, /^ibvault \d+\.\d+\.\d+\n$/);
    const h = runBinary(["--help"], dir);
    assert.equal(h.code, 0);
    assert.match(h.stdout, /Usage: ibvault/);
    assert.match(h.stdout, /validate/);
  });
});

Deno.test("binary: unknown option and unknown command exit 2 with one line naming them", () => {
  withCopiedBinary((dir) => {
    const o = runBinary(["validate", "--frobnicate"], dir);
    assert.equal(o.code, 2);
    assert.equal(o.stderr, "ibvault: ERROR: unknown option '--frobnicate' (see ibvault --help)\n");
    const c = runBinary(["frobnicate"], dir);
    assert.equal(c.code, 2);
    assert.equal(c.stderr, "ibvault: ERROR: unknown command 'frobnicate' (see ibvault --help)\n");
  });
});

Deno.test("binary: validate real legacy tablespaces with its embedded WASM and workers", () => {
  withCopiedBinary((dir) => {
    const files = ["mysql56/tb04.ibd", "sakila50/film.ibd", "innodb_ruby/t_10k_rows.ibd"]
      .map((f) => join(legacy, f));
    const r = runBinary(["validate", "--threads=2", "--no-progress", ...files], dir);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /ibvault completed OK!\n$/);
    // A corrupt copy is found by the binary as well.
    const bad = join(dir, "bad.ibd");
    const bytes = Deno.readFileSync(files[0]);
    bytes[16384 * 3 + 200] ^= 0xff;
    Deno.writeFileSync(bad, bytes);
    const b = runBinary(["validate", "--no-progress", bad], dir);
    assert.equal(b.code, 1, b.stderr);
    assert.match(
      b.stderr,
      /ibvault: ERROR: \S*bad\.ibd\b.* is corrupt and has : 1 corrupt pages\n/,
    );
  });
});
