/**
 * purge-backups and check-backup over a real root of backups: `backup
 * --with-timestamp` against a throwaway server, images made from them with
 * backup-dir-to-image (plain and encrypted), a real incremental chain (`backup
 * --incremental --incremental-base=dir:...`, which purge keeps whole), and things
 * in the root that are not backups. The binary prints the plugin lines.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { contextFor, startBackupServer } from "./fixtures/server.ts";
import { backupCommand } from "../lib/commands/backup.ts";
import { backupDirToImageCommand } from "../lib/commands/backup_dir_to_image.ts";
import { backupToImageCommand } from "../lib/commands/backup_to_image.ts";
import { purgeBackupsCommand } from "../lib/commands/purge_backups.ts";
import { checkBackupCommand } from "../lib/commands/check_backup.ts";
import { isTimestampName } from "../lib/retention/timestamp.ts";
import { KEY_HEX } from "./fixtures/keys.ts";
import { corruptOnePage } from "./delta_helpers.ts";
import type { ThrowawayServer } from "../scripts/throwaway_server.ts";
import type { PurgeReport } from "../lib/retention/purge.ts";
import type { CheckResult } from "../lib/monitor/check.ts";

const binary = fileURLToPath(new URL("../dist/ibvault", import.meta.url));
const HOUR = 3_600_000;

function runBinary(args: string[]) {
  const out = new Deno.Command(binary, { args, stdout: "piped", stderr: "piped" }).outputSync();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

async function editManifest(dir: string, fields: Record<string, unknown>) {
  const file = join(dir, "ibvault_manifest.json");
  const m = JSON.parse(await Deno.readTextFile(file));
  await Deno.writeTextFile(file, JSON.stringify({ ...m, ...fields }, null, 1));
}

async function names(dir: string): Promise<string[]> {
  const out: string[] = [];
  for await (const e of Deno.readDir(dir)) out.push(e.name);
  return out.sort();
}

/**
 * A root holding a real chain, full f1 ← incremental i2 ← incremental i4, and a
 * full f3 taken between them, with rows changed before each backup; their ages
 * (10 d, 9 d, 2 d, 1 d) are set through each manifest's createdAt.
 */
async function makeRoot(srv: ThrowawayServer, root: string) {
  const c = contextFor(srv, { backupDir: root, withTimestamp: true, noSync: true });
  assert.equal(await backupCommand.run(c), 0);
  const [first] = await names(root);
  assert.ok(isTimestampName(first), `timestamped name: ${first}`);
  assert.match(c.report.lines.join("\n"), new RegExp(`to .*${first}`));
  const dirs = {
    f1: "2026-01-01_02-00-00",
    i2: "2026-01-02_02-00-00",
    f3: "2026-01-09_02-00-00",
    i4: "2026-01-10_02-00-00",
  };
  await Deno.rename(join(root, first), join(root, dirs.f1));
  const backup = async (dir: string, base?: string) => {
    const ctx = contextFor(srv, {
      backupDir: join(root, dir),
      noSync: true,
      ...(base ? { incremental: true, incrementalBase: `dir:${join(root, base)}` } : {}),
    });
    assert.equal(await backupCommand.run(ctx), 0, ctx.report.lines.join("\n"));
  };
  await change(srv, 1);
  await backup(dirs.i2, dirs.f1);
  await change(srv, 2);
  await backup(dirs.f3);
  await change(srv, 3);
  await backup(dirs.i4, dirs.i2);
  const now = Date.now();
  const ids: Record<string, string> = {};
  const m: Record<string, { id: string; kind: string; base?: { id: string } }> = {};
  for (const [n, hours] of [["f1", 240], ["i2", 216], ["f3", 48], ["i4", 24]] as const) {
    await editManifest(join(root, dirs[n]), {
      createdAt: new Date(now - hours * HOUR).toISOString(),
    });
    m[n] = JSON.parse(await Deno.readTextFile(join(root, dirs[n], "ibvault_manifest.json")));
    ids[n] = m[n].id;
  }
  assert.deepEqual([m.f1.kind, m.i2.kind, m.f3.kind, m.i4.kind], [
    "full",
    "incremental",
    "full",
    "incremental",
  ]);
  assert.equal(m.i2.base?.id, ids.f1);
  assert.equal(m.i4.base?.id, ids.i2);
  assert.ok(
    (await names(join(root, dirs.i4, "shop"))).includes("orders.ibd.delta"),
    "i4 carries deltas, not whole files",
  );
  return { dirs, ids };
}

/** Rows changed between backups: updates, inserts, deletes. */
async function change(srv: ThrowawayServer, round: number) {
  await srv.query(
    `UPDATE shop.orders SET v = REPEAT('${round}', 90) WHERE id < 30;` +
      `INSERT INTO shop.items VALUES (${1000 + round}, ${round});` +
      `DELETE FROM shop.orders WHERE id = ${100 + round}`,
  );
}

async function seedShop(srv: ThrowawayServer) {
  await srv.query(
    "CREATE DATABASE shop; CREATE TABLE shop.orders (id INT PRIMARY KEY, v VARCHAR(100));" +
      "CREATE TABLE shop.items (id INT PRIMARY KEY, n INT);",
  );
  for (let i = 0; i < 300; i++) {
    await srv.query(
      "INSERT INTO shop.orders VALUES (?, REPEAT('o', 90)); INSERT INTO shop.items VALUES (?, ?)",
      [i, i, i],
    );
  }
}

async function check(
  srv: ThrowawayServer,
  opts: Record<string, unknown>,
): Promise<{ code: number; r: CheckResult }> {
  const c = contextFor(srv, { json: true, ...opts });
  const code = await checkBackupCommand.run(c);
  return { code, r: c.json[0] as CheckResult };
}

async function purge(srv: ThrowawayServer, opts: Record<string, unknown>): Promise<PurgeReport> {
  const c = contextFor(srv, { json: true, ...opts });
  assert.equal(await purgeBackupsCommand.run(c), 0);
  return c.json[0] as PurgeReport;
}

Deno.test("purge-backups and check-backup over a real root of backups", async (t) => {
  await using srv = await startBackupServer();
  await seedShop(srv);
  const tmp = await Deno.makeTempDir({ prefix: "ibvault-ops-" });
  try {
    const root = join(tmp, "root");
    const { dirs, ids } = await makeRoot(srv, root);
    // Not backups: a directory without a manifest, a stray file, a fake .ibv, a partial image.
    await Deno.mkdir(join(root, "notes"));
    await Deno.writeTextFile(join(root, "README.txt"), "hello");
    await Deno.writeTextFile(join(root, "fake.ibv"), "not an image at all");
    await Deno.writeTextFile(join(root, "x.ibv.ibvault-part"), "IBVIMG\n\0 partial");
    const others = ["README.txt", "fake.ibv", "notes", "x.ibv.ibvault-part"];
    // Working directories of image runs (run logs only): one older than every backup the purges
    // below keep, one newer; one that also holds another file is not one.
    const workDir = async (name: string, at: string, extra?: string) => {
      const log = join(root, name, "meta", "ibvault_backup-to-image_20260101T020000Z.log");
      await Deno.mkdir(join(root, name, "meta"), { recursive: true });
      await Deno.writeTextFile(log, "ibvault run log\n");
      if (extra) await Deno.writeTextFile(join(root, name, extra), "x");
      await Deno.utime(log, new Date(at), new Date(at));
    };
    await workDir("2025-12-01_02-00-00", "2025-12-01T02:00:00Z");
    await workDir("2026-06-01_02-00-00", new Date().toISOString()); // written just now
    await workDir("2025-11-01_02-00-00", "2025-11-01T02:00:00Z", "spool.tmp");
    others.push("2025-11-01_02-00-00");
    others.sort();

    await t.step("check-backup: the newest backup of the root is OK", async () => {
      const { code, r } = await check(srv, {
        backupDir: root,
        validate: true,
        expectTables: ["^shop\\.orders$"],
      });
      assert.equal(code, 0, r.line);
      assert.match(
        r.line,
        /^IBVAULT OK - newest backup \d{4}-\d\d-\d\d \d\d:\d\d \(1d ago\) incremental, 2 tables, .*, validated \| age=864\d\ds size=\d+B tables=2 corrupt_pages=0$/,
      );
      assert.equal(r.backup?.id, ids.i4);
      // The common --json report shape, with the plugin's state.
      const doc = r as unknown as Record<string, unknown>;
      assert.equal(doc.command, "check-backup");
      assert.equal(doc.status, "ok");
      assert.equal(doc.code, 0);
      assert.ok(typeof doc.startedAt === "string" && Array.isArray(doc.warnings));
      assert.equal(r.backups, 4);
    });

    await t.step("check-backup: age thresholds, --min-size, --expect-tables", async () => {
      let x = await check(srv, { backupDir: root, warningAge: "12h", criticalAge: "7d" });
      assert.equal(x.code, 1);
      assert.match(x.r.line, /^IBVAULT WARNING - .*older than the warning age \(12h\)/);
      x = await check(srv, { backupDir: root, warningAge: "1h", criticalAge: "20h" });
      assert.equal(x.code, 2);
      x = await check(srv, { backupDir: root, minSize: "1TiB" });
      assert.equal(x.code, 2);
      assert.match(x.r.line, /below --min-size \(1\.0 TiB\)/);
      x = await check(srv, {
        backupDir: root,
        expectTables: ["^shop\\.orders$", "^shop\\.missing$"],
      });
      assert.equal(x.code, 2);
      assert.match(
        x.r.line,
        /no table of the newest backup matches --expect-tables=\^shop\\.missing\$/,
      );
      x = await check(srv, { backupDir: root, warningAge: "2 days" });
      assert.equal(x.code, 3);
      assert.match(x.r.line, /^IBVAULT UNKNOWN - --warning-age=2 days: not a duration/);
    });

    await t.step(
      "images: plain, encrypted (UNKNOWN without the key), truncated (CRITICAL)",
      async () => {
        const img = join(tmp, "f3.ibv");
        let c = contextFor(srv, {
          backupDir: join(root, dirs.f3),
          backupImage: img,
          compress: true,
          noSync: true,
        });
        assert.equal(await backupDirToImageCommand.run(c), 0);
        await Deno.writeTextFile(join(tmp, "key"), KEY_HEX);
        await Deno.chmod(join(tmp, "key"), 0o600);
        const enc = join(tmp, "f3.enc.ibv");
        c = contextFor(srv, {
          backupDir: join(root, dirs.f3),
          backupImage: enc,
          encrypt: true,
          keyFile: join(tmp, "key"),
          noSync: true,
        });
        assert.equal(await backupDirToImageCommand.run(c), 0);
        let x = await check(srv, {
          backupImage: img,
          validate: true,
          warningAge: "3d",
          criticalAge: "4d",
        });
        assert.equal(x.code, 0, x.r.line);
        assert.match(x.r.line, /\(2d ago\), 2 tables, .*validated/);
        x = await check(srv, { backupImage: enc });
        assert.equal(x.code, 3, x.r.line);
        assert.match(x.r.line, /^IBVAULT UNKNOWN - .*encrypted: give --key-file/);
        x = await check(srv, {
          backupImage: enc,
          keyFile: join(tmp, "key"),
          validate: true,
          warningAge: "3d",
          criticalAge: "4d",
        });
        assert.equal(x.code, 0, x.r.line);
        const bytes = await Deno.readFile(img);
        await Deno.writeFile(join(tmp, "cut.ibv"), bytes.subarray(0, bytes.length - 100));
        x = await check(srv, { backupImage: join(tmp, "cut.ibv") });
        assert.equal(x.code, 2, x.r.line);
        assert.match(x.r.line, /^IBVAULT CRITICAL - /);
      },
    );

    await t.step(
      "check-backup --validate of backup-to-image images: full and incremental",
      async () => {
        await change(srv, 4);
        for (
          const [name, extra] of [
            ["live.ibv", {}],
            ["inc.ibv", { incremental: true, incrementalBase: `dir:${join(root, dirs.i4)}` }],
          ] as const
        ) {
          const c = contextFor(srv, { backupImage: join(tmp, name), noSync: true, ...extra });
          assert.equal(await backupToImageCommand.run(c), 0, c.report.lines.join("\n"));
          const x = await check(srv, { backupImage: join(tmp, name), validate: true });
          assert.equal(x.code, 0, x.r.line + JSON.stringify(x.r.findings));
          assert.match(x.r.line, /, validated \|/);
        }
        // the minimum-locking image's hot copies are judged with their deltas: no spool
        const noTmp = new Deno.Command(binary, {
          args: ["check-backup", `--backup-image=${join(tmp, "live.ibv")}`, "--validate"],
          env: { TMPDIR: join(tmp, "no-such-dir") },
          stdout: "piped",
          stderr: "piped",
        }).outputSync();
        const status = new TextDecoder().decode(noTmp.stdout);
        assert.equal(noTmp.code, 0, status + new TextDecoder().decode(noTmp.stderr));
        assert.match(status, /^IBVAULT OK - .*validated \|/);
        // an incremental image whose delta holds a corrupt page: CRITICAL, the page counted
        const inc = join(tmp, "inc-dir");
        let c = contextFor(srv, {
          backupDir: inc,
          noSync: true,
          incremental: true,
          incrementalBase: `dir:${join(root, dirs.i4)}`,
        });
        assert.equal(await backupCommand.run(c), 0);
        await corruptOnePage(join(inc, "shop", "orders.ibd.delta"));
        c = contextFor(srv, {
          backupDir: inc,
          backupImage: join(tmp, "bad-inc.ibv"),
          skipPageCheck: true,
          noSync: true,
        });
        assert.equal(await backupDirToImageCommand.run(c), 0, c.report.lines.join("\n"));
        const x = await check(srv, { backupImage: join(tmp, "bad-inc.ibv"), validate: true });
        assert.equal(x.code, 2, x.r.line);
        assert.match(x.r.line, /corrupt_pages=1$/);
        assert.ok(
          x.r.findings.some((f) => /orders\.ibd\.delta.*1 corrupt page/.test(f.message)),
          JSON.stringify(x.r.findings),
        );
      },
    );

    await t.step("purge --dry-run: what goes, why the rest stays, nothing deleted", async () => {
      const before = await names(root);
      const r = await purge(srv, { backupDir: root, keepLast: 1, dryRun: true });
      assert.deepEqual(await names(root), before);
      assert.deepEqual(r.deleted.map((d) => d.name), [dirs.f3]);
      const doc = r as unknown as Record<string, unknown>;
      assert.equal(doc.command, "purge-backups");
      assert.equal(doc.status, "ok");
      const kept = new Map(r.kept.map((k) => [k.name, k.reasons.join("; ")]));
      assert.match(kept.get(dirs.i4)!, /keep-last 1 \(#1\); newest sound backup/);
      assert.match(kept.get(dirs.i2)!, /base of kept incremental 2026-01-10_02-00-00/);
      assert.match(kept.get(dirs.f1)!, /base of kept incremental 2026-01-02_02-00-00/);
      assert.deepEqual(r.leftAlone.map((l) => l.name).sort(), others);
      assert.match(
        r.leftAlone.find((l) => l.name === "notes")!.reason,
        /without ibvault_manifest\.json/,
      );
      assert.match(r.leftAlone.find((l) => l.name === "fake.ibv")!.reason, /no ibvault magic/);
      assert.deepEqual(
        r.workDirs.map((w) => [w.name, w.deleted]),
        [["2025-12-01_02-00-00", true], ["2026-06-01_02-00-00", false]],
      );
      assert.match(r.workDirs[0].reason, /older than every backup kept/);
    });

    await t.step("check-backup: a corrupted newest backup is CRITICAL", async () => {
      // One page of the newest backup's (an incremental's) orders delta made corrupt.
      const delta = join(root, dirs.i4, "shop", "orders.ibd.delta");
      const original = await Deno.readFile(delta);
      assert.ok((await corruptOnePage(delta)) > 0);
      let x = await check(srv, { backupDir: root });
      assert.equal(x.code, 2, x.r.line);
      assert.equal((x.r as unknown as { status: string }).status, "corrupt");
      assert.match(
        x.r.line,
        /^IBVAULT CRITICAL - .*NOT SOUND: altered entry \(CRC-32C mismatch\): shop\/orders\.ibd\.delta/,
      );
      x = await check(srv, { backupDir: root, validate: true });
      assert.equal(x.code, 2);
      assert.ok(
        x.r.findings.some((f) => /orders\.ibd.*1 corrupt page/.test(f.message)),
        JSON.stringify(x.r.findings),
      );
      assert.ok(/corrupt_pages=1/.test(x.r.line), x.r.line);
      // The binary: the plugin line comes first on stdout, exit 2; a bad option is UNKNOWN (3).
      const out = runBinary(["check-backup", `--backup-dir=${root}`, "--validate"]);
      assert.equal(out.code, 2, out.stdout + out.stderr);
      assert.match(
        out.stdout.split("\n")[0],
        /^IBVAULT CRITICAL - newest backup .* \| age=\d+s size=\d+B tables=2 corrupt_pages=1$/,
      );
      const bad = runBinary(["check-backup", `--backup-dir=${root}`, "--no-such-option"]);
      assert.equal(bad.code, 3);
      assert.match(bad.stdout, /^IBVAULT UNKNOWN - /);
      // Put it back for what follows.
      await Deno.writeFile(delta, original);
    });

    await t.step("purge for real: the chain stays, f3 goes, other names untouched", async () => {
      // A partly deleted backup from an interrupted purge is finished off.
      await Deno.mkdir(join(root, ".old.ibvault-purging", "shop"), { recursive: true });
      const r = await purge(srv, { backupDir: root, keepLast: 1 });
      assert.deepEqual(r.deleted.map((d) => d.name), [dirs.f3]);
      assert.deepEqual(r.finished, [".old.ibvault-purging"]);
      // The old work directory went; the newer one stays.
      assert.deepEqual(r.workDirs.filter((w) => w.deleted).map((w) => w.name), [
        "2025-12-01_02-00-00",
      ]);
      others.push("2026-06-01_02-00-00");
      assert.deepEqual(await names(root), [dirs.f1, dirs.i2, dirs.i4, ...others].sort());
      // Images in the root are backups too; an encrypted one without a key is left alone.
      await Deno.copyFile(join(tmp, "f3.ibv"), join(root, "f3.ibv"));
      await Deno.copyFile(join(tmp, "f3.enc.ibv"), join(root, "f3.enc.ibv"));
      const dry = await purge(srv, { backupDir: root, keepLast: 1, dryRun: true });
      assert.deepEqual(dry.deleted.map((d) => d.name), ["f3.ibv"]);
      assert.match(
        dry.leftAlone.find((l) => l.name === "f3.enc.ibv")!.reason,
        /encrypted image and no key/,
      );
      const withKey = await purge(srv, { backupDir: root, keepLast: 1, keyFile: join(tmp, "key") });
      assert.deepEqual(withKey.deleted.map((d) => d.name).sort(), ["f3.enc.ibv", "f3.ibv"]);
      assert.deepEqual(await names(root), [dirs.f1, dirs.i2, dirs.i4, ...others].sort());
      // No policy: refused, exit 2.
      const c = contextFor(srv, { backupDir: root });
      await assert.rejects(() => purgeBackupsCommand.run(c), /needs at least one of --keep-last/);
    });
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});
