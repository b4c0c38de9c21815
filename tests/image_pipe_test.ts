// Pipes between processes: `backup-dir-to-image --backup-image=- | image-to-backup-dir
// --backup-image=-`. Run with `deno run` this file is a small command line for the four
// image commands (cli.ts is the real one; this keeps the tests independent of its registry).
import assert from "node:assert/strict";
import process from "node:process";
import { parseCommandLine } from "../lib/commands/argv.ts";
import { exitCodeOf } from "../lib/errors.ts";
import { createReporter } from "../lib/progress/reporter.ts";
import { backupDirToImageCommand } from "../lib/commands/backup_dir_to_image.ts";
import { imageToBackupDirCommand } from "../lib/commands/image_to_backup_dir.ts";
import { listImageCommand } from "../lib/commands/list_image.ts";
import { extractCommand } from "../lib/commands/extract.ts";
import { KEY_HEX, OTHER_KEY_HEX } from "./fixtures/keys.ts";
import { pageLike } from "./fixtures/prng.ts";
import { makeTree, readTree, sameBytes } from "./fixtures/tree.ts";

const COMMANDS = [
  backupDirToImageCommand,
  imageToBackupDirCommand,
  listImageCommand,
  extractCommand,
];

if (import.meta.main) {
  let code: number;
  try {
    const p = parseCommandLine(process.argv.slice(2), 2);
    const cmd = COMMANDS.find((c) => c.name === p.command)!;
    p.checkApplies(cmd);
    const report = createReporter({ showProgress: false });
    code = await cmd.run({
      options: p.options,
      args: p.args,
      report,
      signal: new AbortController().signal,
      printJson: (v) => void process.stdout.write(JSON.stringify(v) + "\n"),
    });
  } catch (e) {
    process.stderr.write(`ibvault: ERROR: ${(e as Error).message}\n`);
    code = exitCodeOf(e);
  }
  process.exitCode = code;
} else {
  const DENO = new URL("../node_modules/.bin/deno", import.meta.url).pathname;
  const SELF = new URL(import.meta.url).pathname;
  const TIME = "/usr/bin/time";
  const hasTime = (() => {
    try {
      Deno.statSync(TIME);
      return true;
    } catch {
      return false;
    }
  })();

  const spawn = function (
    args: string[],
    env: Record<string, string> = {},
    stdin: "piped" | "null" = "null",
  ) {
    const cmd = hasTime ? TIME : DENO;
    const full = hasTime
      ? ["-f", "maxrss_kb=%M", DENO, "run", "-A", SELF, ...args]
      : ["run", "-A", SELF, ...args];
    return new Deno.Command(cmd, { args: full, stdin, stdout: "piped", stderr: "piped", env })
      .spawn();
  };
  const text = (b: Uint8Array) => new TextDecoder().decode(b);
  const rss = (stderr: string) => Number(/maxrss_kb=(\d+)/.exec(stderr)?.[1] ?? 0) / 1024;

  /** writer | reader; returns both outputs. */
  const pipe = async function (wArgs: string[], rArgs: string[], env: Record<string, string> = {}) {
    const w = spawn(wArgs, env);
    const r = spawn(rArgs, env, "piped");
    const piping = w.stdout.pipeTo(r.stdin).catch(() => {});
    const [wErr, wStatus, ro] = await Promise.all([
      new Response(w.stderr).text(),
      w.status,
      r.output(),
    ]);
    await piping;
    return {
      w: { code: wStatus.code, err: wErr },
      r: { code: ro.code, err: text(ro.stderr), out: text(ro.stdout) },
    };
  };

  Deno.test("pipe: backup-dir-to-image - | image-to-backup-dir - (compressed, encrypted, key from env)", async () => {
    const tmp = await Deno.makeTempDir();
    try {
      const files = {
        "a/b.ibd": pageLike(5 << 20, 2),
        "c": new Uint8Array(0),
        "d": Uint8Array.of(1),
      };
      await makeTree(`${tmp}/src`, files);
      const env = { IBV_KEY: KEY_HEX };
      const { w, r } = await pipe(
        [
          "backup-dir-to-image",
          `--backup-dir=${tmp}/src`,
          "--backup-image=-",
          "--compress",
          "--encrypt",
          "--key-env=IBV_KEY",
        ],
        [
          "image-to-backup-dir",
          "--backup-image=-",
          `--backup-dir=${tmp}/out`,
          "--key-env",
          "IBV_KEY",
        ],
        env,
      );
      assert.equal(w.code, 0, w.err);
      assert.equal(r.code, 0, r.err);
      const got = await readTree(`${tmp}/out`);
      for (const [p, d] of Object.entries(files)) assert.ok(sameBytes(got.get(p)!, d), p);
    } finally {
      await Deno.remove(tmp, { recursive: true });
    }
  });

  Deno.test("pipe: wrong key is exit 3 'wrong key' and nothing is written", async () => {
    const tmp = await Deno.makeTempDir();
    try {
      await makeTree(`${tmp}/src`, { "f": pageLike(100000) });
      const { r } = await pipe(
        [
          "backup-dir-to-image",
          `--backup-dir=${tmp}/src`,
          "--backup-image=-",
          "--encrypt",
          "--key-env=K1",
        ],
        ["image-to-backup-dir", "--backup-image=-", `--backup-dir=${tmp}/out`, "--key-env=K2"],
        { K1: KEY_HEX, K2: OTHER_KEY_HEX },
      );
      assert.equal(r.code, 3);
      assert.match(r.err, /wrong key/);
      await assert.rejects(() => Deno.stat(`${tmp}/out`), Deno.errors.NotFound);
    } finally {
      await Deno.remove(tmp, { recursive: true });
    }
  });

  Deno.test("large image through pipes: ~300 MB, byte-identical, bounded memory", async () => {
    const tmp = await Deno.makeTempDir();
    try {
      // A sparse-ish file: pages with some random bytes, written once.
      const f = await Deno.open(`${tmp}/src.ibd`, { write: true, create: true });
      const page = pageLike(1 << 20, 11);
      for (let i = 0; i < 300; i++) {
        page[i] = i & 0xff;
        await f.write(page);
      }
      f.close();
      await Deno.mkdir(`${tmp}/src`);
      await Deno.rename(`${tmp}/src.ibd`, `${tmp}/src/big.ibd`);
      const { w, r } = await pipe(
        [
          "backup-dir-to-image",
          `--backup-dir=${tmp}/src`,
          "--backup-image=-",
          "--compress",
          "--encrypt",
          "--key-env=K",
        ],
        ["image-to-backup-dir", "--backup-image=-", `--backup-dir=${tmp}/out`, "--key-env=K"],
        { K: KEY_HEX },
      );
      assert.equal(w.code, 0, w.err);
      assert.equal(r.code, 0, r.err);
      const cmp = await new Deno.Command("cmp", {
        args: [`${tmp}/src/big.ibd`, `${tmp}/out/big.ibd`],
      }).output();
      assert.equal(cmp.code, 0);
      if (hasTime) {
        console.log(
          `peak RSS: writer ${rss(w.err).toFixed(0)} MB, reader ${rss(r.err).toFixed(0)} MB`,
        );
        // Chunk buffers are recycled between the main thread and the workers, dropped ones
        // are released at once, and workers run with a small young generation: under
        // `deno run` a 2 GB image peaks at ~150 MB (the binary's 3 GiB test: binary_test.ts).
        assert.ok(rss(w.err) < 200 && rss(r.err) < 200, `${rss(w.err)} ${rss(r.err)}`);
      }
    } finally {
      await Deno.remove(tmp, { recursive: true });
    }
  });

  Deno.test("list-image and extract --keep-compressed (lz4 -d reads it) from a pipe", async () => {
    const tmp = await Deno.makeTempDir();
    try {
      const files = { "db/t1.ibd": pageLike(2 << 20, 4), "db/t2.ibd": pageLike(16384, 5) };
      await makeTree(`${tmp}/src`, files);
      const manifest = {
        format: "ibvault-manifest",
        version: 1,
        tool: { name: "ibvault", version: "t" },
        createdAt: "2026-01-01T00:00:00Z",
        options: {},
        databases: [{ name: "db", dir: "db", createStatement: "" }],
        tables: [{
          database: "db",
          name: "tàble",
          engine: "InnoDB",
          createStatement: "",
          files: ["db/t1.ibd"],
        }],
        entries: [
          { path: "db/t1.ibd", size: 2 << 20, crc32c: "00000000" },
          { path: "db/t2.ibd", size: 16384, crc32c: "00000000" },
        ],
      };
      await Deno.writeTextFile(`${tmp}/src/ibvault_manifest.json`, JSON.stringify(manifest));
      const img = `${tmp}/img`;
      const w = await spawn([
        "backup-dir-to-image",
        `--backup-dir=${tmp}/src`,
        `--backup-image=${img}`,
        "--compress",
      ]).output();
      assert.equal(w.code, 0);
      assert.match(text(w.stderr), /content differs from the manifest/); // the CRCs above are fake
      const l = spawn(["list-image", "--backup-image=-"], {}, "piped");
      const data = await Deno.readFile(img);
      const wr = l.stdin.getWriter();
      const [lo] = await Promise.all([
        l.output(),
        wr.write(data).then(() => wr.close()).catch(() => {}),
      ]);
      assert.equal(lo.code, 0, text(lo.stderr));
      assert.match(text(lo.stdout), /db\/t1\.ibd +`db`\.`tàble`/);
      assert.match(text(lo.stdout), /tables: 1, entries: 2/);
      const x = await spawn([
        "extract",
        `--backup-image=${img}`,
        "--src-entry=db/t1.ibd",
        `--backup-dir=${tmp}/x`,
        "--keep-compressed",
      ]).output();
      assert.equal(x.code, 0, text(x.stderr));
      const d = await new Deno.Command("lz4", {
        args: ["-d", "-q", `${tmp}/x/db/t1.ibd.lz4`, `${tmp}/t1`],
      }).output();
      assert.equal(d.code, 0, text(d.stderr));
      assert.ok(sameBytes(await Deno.readFile(`${tmp}/t1`), files["db/t1.ibd"]));
      const y = await spawn([
        "extract",
        `--backup-image=${img}`,
        "--src-entry=db/t2.ibd",
        `--dst-entry=${tmp}/t2.copy`,
      ]).output();
      assert.equal(y.code, 0, text(y.stderr));
      assert.ok(sameBytes(await Deno.readFile(`${tmp}/t2.copy`), files["db/t2.ibd"]));
      // A whole-image extract notices the entries do not match the (fake) manifest CRCs.
      const z = await spawn(["extract", `--backup-image=${img}`, `--backup-dir=${tmp}/z`]).output();
      assert.equal(z.code, 1);
      assert.match(text(z.stderr), /altered entry \(CRC-32C mismatch\): db\/t1\.ibd/);
    } finally {
      await Deno.remove(tmp, { recursive: true });
    }
  });
}
