/**
 * The built single binary (dist/ibvault, made by `deno task compile`, which the
 * test task runs first), run from a temp directory with no repository beside it.
 */
import assert from "node:assert/strict";
import { copyFileSync, existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Buffer } from "node:buffer";
import { KEY_HEX } from "./fixtures/keys.ts";
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

/** Run the binary, sampling its resident memory from /proc; resolves to exit code and peak RSS. */
async function runSampled(bin: string, args: string[], env: Record<string, string>) {
  const child = new Deno.Command(bin, { args, env, stdout: "null", stderr: "piped" }).spawn();
  let peak = 0;
  const timer = setInterval(() => {
    try {
      const status = Deno.readTextFileSync(`/proc/${child.pid}/status`);
      const kb = Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0);
      peak = Math.max(peak, kb * 1024);
    } catch { /* exited */ }
  }, 20);
  const out = await child.output();
  clearInterval(timer);
  return { code: out.code, stderr: new TextDecoder().decode(out.stderr), peak };
}

Deno.test("binary: a 384 MiB directory to an encrypted image and back, byte-identical, RSS < 200 MB", async () => {
  assert.ok(existsSync(built), "dist/ibvault is missing: run deno task compile first");
  const dir = mkdtempSync(join(tmpdir(), "ibvault-binmem-"));
  try {
    const src = join(dir, "src", "db");
    Deno.mkdirSync(src, { recursive: true });
    // Pages that compress like tablespaces: random runs between repeated bytes.
    const file = new Uint8Array(128 << 20);
    for (let off = 0; off < file.length; off += 16384) {
      crypto.getRandomValues(file.subarray(off, off + 4096));
      file.fill(off >> 14 & 0xff, off + 4096, off + 16384);
    }
    for (const name of ["a.ibd", "b.ibd", "c.ibd"]) Deno.writeFileSync(join(src, name), file);
    const env = { IBV_KEY: KEY_HEX };
    const image = join(dir, "img");
    const w = await runSampled(built, [
      "backup-dir-to-image",
      `--backup-dir=${join(dir, "src")}`,
      `--backup-image=${image}`,
      "--compress",
      "--encrypt",
      "--key-env=IBV_KEY",
      "--no-progress",
    ], env);
    assert.equal(w.code, 0, w.stderr);
    const r = await runSampled(built, [
      "image-to-backup-dir",
      `--backup-image=${image}`,
      `--backup-dir=${join(dir, "out")}`,
      "--key-env=IBV_KEY",
      "--no-progress",
    ], env);
    assert.equal(r.code, 0, r.stderr);
    for (const name of ["a.ibd", "b.ibd", "c.ibd"]) {
      const back = Deno.readFileSync(join(dir, "out", "db", name));
      assert.equal(back.length, file.length);
      assert.ok(back.every((b, i) => b === file[i]), `${name} differs`);
    }
    assert.ok(w.peak > 0 && r.peak > 0, "no RSS samples");
    console.log(
      `peak RSS: write ${(w.peak / 1e6).toFixed(0)} MB, read ${(r.peak / 1e6).toFixed(0)} MB`,
    );
    assert.ok(w.peak < 200e6, `writing peaked at ${(w.peak / 1e6).toFixed(0)} MB`);
    assert.ok(r.peak < 200e6, `reading peaked at ${(r.peak / 1e6).toFixed(0)} MB`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

/** Peak RSS (VmHWM, bytes) of the children of process `parent`, by the command each runs. */
function sampleChildren(parent: number, peaks: Map<string, number>): void {
  for (const entry of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(entry.name)) continue;
    try {
      const status = Deno.readTextFileSync(`/proc/${entry.name}/status`);
      if (Number(/PPid:\s+(\d+)/.exec(status)?.[1]) !== parent) continue;
      const argv = Deno.readTextFileSync(`/proc/${entry.name}/cmdline`).split("\0");
      const kb = Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0);
      const command = argv[1] ?? "";
      peaks.set(command, Math.max(peaks.get(command) ?? 0, kb * 1024));
    } catch { /* exited meanwhile */ }
  }
}

Deno.test("binary: a 3 GiB image streamed through a pipe, never on disk, round trip identical, RSS < 200 MB each side", async () => {
  assert.ok(existsSync(built), "dist/ibvault is missing: run deno task compile first");
  const dir = mkdtempSync(join(tmpdir(), "ibvault-binpipe-"));
  try {
    // A sparse 3 GiB tablespace (cheap to read) with random pages scattered through it;
    // encrypted without compression, the image crossing the pipe is over 3 GiB.
    const src = join(dir, "src", "db");
    Deno.mkdirSync(src, { recursive: true });
    const size = 3 * 2 ** 30 + 16384 * 5;
    const marks: [number, Uint8Array][] = [];
    const f = Deno.openSync(join(src, "big.ibd"), { write: true, create: true });
    f.truncateSync(size);
    for (let off = 0; off < size; off += 256 << 20) {
      const page = crypto.getRandomValues(new Uint8Array(16384));
      f.seekSync(off, Deno.SeekMode.Start);
      f.writeSync(page);
      marks.push([off, page]);
    }
    f.close();
    const out = join(dir, "out");
    const script = `"$BIN" backup-dir-to-image --backup-dir="$SRC" --backup-image=- --encrypt ` +
      `--key-env=IBV_KEY --no-progress | "$BIN" image-to-backup-dir --backup-image=- ` +
      `--backup-dir="$OUT" --key-env=IBV_KEY --no-progress`;
    const child = new Deno.Command("bash", {
      args: ["-o", "pipefail", "-c", script],
      env: {
        BIN: built,
        SRC: join(dir, "src"),
        OUT: out,
        IBV_KEY: KEY_HEX,
      },
      stdout: "null",
      stderr: "piped",
    }).spawn();
    const peaks = new Map<string, number>();
    const timer = setInterval(() => sampleChildren(child.pid, peaks), 20);
    const done = await child.output();
    clearInterval(timer);
    const stderr = new TextDecoder().decode(done.stderr);
    assert.equal(done.code, 0, stderr);
    assert.match(stderr, new RegExp(`wrote 1 entries, ${size} bytes`));

    // Every byte back: the scattered pages where they were, zeros everywhere else
    // (16 MiB reads line up with the 256 MiB spacing, so no page straddles two).
    const back = Deno.openSync(join(out, "db", "big.ibd"));
    assert.equal(back.statSync().size, size);
    const buf = new Uint8Array(16 << 20), zeros = new Uint8Array(buf.length);
    let pos = 0, next = 0;
    for (;;) {
      let n = 0;
      while (n < buf.length) {
        const got = back.readSync(buf.subarray(n));
        if (got === null) break;
        n += got;
      }
      if (n === 0) break;
      while (next < marks.length && marks[next][0] < pos + n) {
        const [at, page] = marks[next++];
        const here = buf.subarray(at - pos, Math.min(at - pos + page.length, n));
        assert.equal(Buffer.compare(here, page.subarray(0, here.length)), 0, `page at ${at}`);
        here.fill(0);
      }
      assert.equal(Buffer.compare(buf.subarray(0, n), zeros.subarray(0, n)), 0, `near ${pos}`);
      pos += n;
    }
    back.close();
    assert.equal(pos, size);
    assert.equal(next, marks.length);

    const writer = peaks.get("backup-dir-to-image") ?? 0;
    const reader = peaks.get("image-to-backup-dir") ?? 0;
    assert.ok(writer > 0 && reader > 0, `no RSS samples: ${[...peaks.keys()]}`);
    console.log(
      `peak RSS: writer ${(writer / 1e6).toFixed(0)} MB, reader ${(reader / 1e6).toFixed(0)} MB`,
    );
    assert.ok(writer < 200e6, `the writer peaked at ${(writer / 1e6).toFixed(0)} MB`);
    assert.ok(reader < 200e6, `the reader peaked at ${(reader / 1e6).toFixed(0)} MB`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
