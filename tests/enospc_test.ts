/**
 * Disk full and unreadable inputs in words (issue 11 item 17): the built binary
 * writes into a 1 MiB tmpfs (and one with no inodes left) with
 * backup-dir-to-image (a file, and stdout), image-to-backup-dir and extract.
 * Each ends with exit 3 and one line naming the file being written, saying no
 * space is left, that nothing was completed, and what to do; nothing but the run
 * log is left on the full file system. A backup directory that does not exist
 * is named with the operation ("cannot read backup directory /x: it does not
 * exist"), never as raw errno text.
 */
import assert from "node:assert/strict";
import { BINARY } from "./cli_helpers.ts";
import { isRunLogPath } from "../lib/core/run_log_path.ts";

async function sh(cmd: string, args: string[]): Promise<void> {
  const out = await new Deno.Command(cmd, { args, stderr: "piped" }).output();
  assert.ok(out.success, `${cmd} ${args.join(" ")}: ${new TextDecoder().decode(out.stderr)}`);
}

async function ibvault(args: string[], stdoutFile?: string) {
  const out = await new Deno.Command("sh", {
    args: [
      "-c",
      `"$0" "$@" --no-defaults --no-progress ${stdoutFile ? `> '${stdoutFile}'` : ""}`,
      BINARY,
      ...args,
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  return { code: out.code, stderr: new TextDecoder().decode(out.stderr) };
}

/** Everything under `dir` but run logs, relative. */
function leftovers(dir: string, prefix = ""): string[] {
  const out: string[] = [];
  for (const e of Deno.readDirSync(dir)) {
    const rel = prefix ? `${prefix}/${e.name}` : e.name;
    if (e.isDirectory) out.push(...leftovers(`${dir}/${e.name}`, rel));
    else if (!isRunLogPath(rel.replace(/^[^/]+\//, ""))) out.push(rel);
  }
  return out;
}

Deno.test("binary: disk full names the file, says nothing was completed and what to do; leaves nothing", async () => {
  const tmp = await Deno.makeTempDir({ prefix: "ibvault-enospc-" });
  const mnt = `${tmp}/full`;
  const noInodes = `${tmp}/noinodes`;
  await Deno.mkdir(mnt);
  await Deno.mkdir(noInodes);
  // A real file system that fills up: tmpfs (root can mount it; CI runs as root).
  await sh("mount", ["-t", "tmpfs", "-o", "size=1m", "tmpfs", mnt]);
  try {
    await sh("mount", ["-t", "tmpfs", "-o", "size=16m,nr_inodes=3", "tmpfs", noInodes]);
    try {
      const src = `${tmp}/src`;
      await Deno.mkdir(`${src}/db`, { recursive: true });
      await Deno.writeFile(`${src}/db/a.ibd`, crypto.getRandomValues(new Uint8Array(65536)));
      const big = new Uint8Array(3 << 20);
      for (let i = 0; i < big.length; i += 65536) {
        crypto.getRandomValues(big.subarray(i, i + 65536));
      }
      await Deno.writeFile(`${src}/db/b.ibd`, big);
      const image = `${tmp}/src.ibv`;
      const made = await ibvault([
        "backup-dir-to-image",
        `--backup-dir=${src}`,
        `--backup-image=${image}`,
        "--skip-page-check",
      ]);
      assert.equal(made.code, 0, made.stderr);

      const cases: [string, string[], RegExp, string?][] = [
        [
          "backup-dir-to-image to a file",
          [
            "backup-dir-to-image",
            `--backup-dir=${src}`,
            `--backup-image=${mnt}/x.ibv`,
            "--skip-page-check",
          ],
          new RegExp(`writing ${mnt}/x\\.ibv: no space left on the device \\(ENOSPC\\)`),
        ],
        [
          "backup-dir-to-image to stdout",
          ["backup-dir-to-image", `--backup-dir=${src}`, "--backup-image=-", "--skip-page-check"],
          /writing the image to stdout: no space left on the device \(ENOSPC\)/,
          `${mnt}/stdout.ibv`,
        ],
        [
          "image-to-backup-dir",
          ["image-to-backup-dir", `--backup-image=${image}`, `--backup-dir=${mnt}/d`],
          new RegExp(`writing ${mnt}/d/db/b\\.ibd: no space left on the device \\(ENOSPC\\)`),
        ],
        [
          "extract",
          ["extract", `--backup-image=${image}`, `--backup-dir=${mnt}/e`],
          new RegExp(`writing ${mnt}/e/db/b\\.ibd: no space left on the device \\(ENOSPC\\)`),
        ],
        [
          "extract, no inode left",
          ["extract", `--backup-image=${image}`, `--backup-dir=${noInodes}/e`, "--no-log"],
          new RegExp(
            `${noInodes}/e/db for ${noInodes}/e/db/a\\.ibd: no space left on the device \\(ENOSPC\\)`,
          ),
        ],
      ];
      for (const [what, args, names, stdoutFile] of cases) {
        const r = await ibvault(args, stdoutFile);
        const last = r.stderr.trimEnd().split("\n").at(-1)!;
        console.log(`  ${what}: exit ${r.code}: ${last}`);
        assert.equal(r.code, 3, `${what}: ${r.stderr}`);
        assert.match(last, /^ibvault: ERROR: /, what);
        assert.match(last, names, what);
        assert.match(last, /nothing was completed/, what);
        assert.match(last, /free space there or choose another destination, then run again/, what);
        assert.doesNotMatch(r.stderr, /completed OK|ENOSPC: no space left on device/, what);
        if (stdoutFile) await Deno.remove(stdoutFile);
        for (const fs of [mnt, noInodes]) {
          assert.deepEqual(leftovers(fs), [], `${what}: left on ${fs}`);
        }
      }

      // Inputs that cannot be read are named with the operation, in words.
      const missing = await ibvault([
        "backup-dir-to-image",
        `--backup-dir=${tmp}/nonexistent`,
        `--backup-image=${tmp}/y.ibv`,
      ]);
      assert.equal(missing.code, 3, missing.stderr);
      assert.match(
        missing.stderr,
        new RegExp(`cannot read backup directory ${tmp}/nonexistent: it does not exist`),
      );
      assert.doesNotMatch(missing.stderr, /ENOENT: no such file|scandir/);
    } finally {
      await sh("umount", [noInodes]);
    }
  } finally {
    await sh("umount", [mnt]);
    await Deno.remove(tmp, { recursive: true });
  }
});
