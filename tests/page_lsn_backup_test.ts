/**
 * The commands over page-LSN backups against a real MariaDB: minimum locking is the
 * default of backup and backup-to-image (directory and image), the summary reports
 * lock time, delta size and pages replaced; incremental chains full -> inc1 -> inc2
 * through directories and images, restored by copy-back with CHECKSUM TABLE equal
 * to the live tables; broken chains refused; apply-incremental-backup. Validating a
 * minimum-locking image needs no temporary space (its hot copies are joined with
 * their deltas, not rebuilt).
 */
import assert from "node:assert/strict";
import { startServer, type ThrowawayServer } from "../scripts/throwaway_server.ts";
import { backupCommand } from "../lib/commands/backup.ts";
import { backupToImageCommand } from "../lib/commands/backup_to_image.ts";
import { copyBackCommand } from "../lib/commands/copy_back.ts";
import { validateCommand } from "../lib/commands/validate.ts";
import { applyIncrementalBackupCommand } from "../lib/commands/apply_incremental_backup.ts";
import type { Options } from "../lib/commands/options.ts";
import { ChainError } from "../lib/errors.ts";
import { type Manifest, MANIFEST_FILE } from "../lib/core/manifest.ts";
import { contextFor, startBackupServer } from "./fixtures/server.ts";
import { CHAIN_TABLES, changeChainTables } from "./fixtures/chain.ts";

const BIN = new URL("../dist/ibvault", import.meta.url).pathname;

async function run(
  srv: ThrowawayServer,
  cmd: { run: (c: ReturnType<typeof contextFor>) => Promise<number> },
  options: Partial<Options>,
) {
  const ctx = contextFor(srv, { json: true, ...options });
  const code = await cmd.run(ctx);
  return { code, doc: ctx.json.at(-1) as Record<string, unknown>, lines: ctx.report.lines };
}

async function checksums(srv: ThrowawayServer, db: string, names: string[]) {
  const out: Record<string, string> = {};
  for (const n of names) {
    const r = await srv.query<{ Checksum: string }[]>(`CHECKSUM TABLE \`${db}\`.\`${n}\``);
    out[n] = String(r[0].Checksum);
  }
  return out;
}

async function seedShop(srv: ThrowawayServer) {
  await srv.query(
    CHAIN_TABLES + ";" +
      "CREATE TABLE shop.doomed (id INT PRIMARY KEY);" +
      "INSERT INTO shop.doomed SELECT seq FROM test.seq_1_to_100",
  );
}

async function restoreAndCompare(
  srv: ThrowawayServer,
  options: Partial<Options>,
  names: string[],
  expected: Record<string, string>,
) {
  await srv.query("DROP DATABASE IF EXISTS back");
  const r = await run(srv, copyBackCommand, {
    ...options,
    includeTables: `^shop\\.(${names.join("|")})$`,
    rename: names.map((n) => `shop.${n} TO back.${n}`),
  });
  assert.equal(r.code, 0, r.lines.join("\n"));
  assert.deepEqual(await checksums(srv, "back", names), expected);
}

Deno.test("minimum locking is the default; directory and image restore to the table at the lock", async () => {
  await using srv = await startBackupServer();
  await seedShop(srv);
  const tmp = await Deno.makeTempDir();
  try {
    const want = await checksums(srv, "shop", ["orders", "small"]);
    const dir = await run(srv, backupCommand, {
      backupDir: `${tmp}/full`,
      includeTables: "^shop\\.",
    });
    assert.equal(dir.code, 0, dir.lines.join("\n"));
    assert.equal(dir.doc.mode, "with-minimum-locking");
    assert.equal(typeof dir.doc.lockSeconds, "number");
    assert.equal(typeof dir.doc.deltaBytes, "number");
    const ts = dir.doc.tablespaces as {
      table: string;
      pagesReplaced: number;
      deltaPages: number;
    }[];
    assert.equal(ts.length, 3);
    assert.ok(ts.every((t) => t.deltaPages >= 1 && t.pagesReplaced >= 0));
    assert.ok(dir.lines.some((l) => /minimum locking: delta/.test(l)), dir.lines.join("\n"));
    const m = JSON.parse(await Deno.readTextFile(`${tmp}/full/${MANIFEST_FILE}`)) as Manifest & {
      id: string;
      kind: string;
      endLsn: string;
    };
    assert.match(m.id, /^[0-9a-f-]{36}$/);
    assert.equal(m.kind, "full");
    assert.match(m.endLsn, /^\d+$/);
    assert.ok(!m.entries.some((e) => e.path.endsWith(".delta")), "deltas applied in place");
    const img = await run(srv, backupToImageCommand, {
      backupImage: `${tmp}/full.ibv`,
      includeTables: "^shop\\.",
      compress: true,
    });
    assert.equal(img.code, 0, img.lines.join("\n"));
    const header = await Deno.readFile(`${tmp}/full.ibv`);
    assert.equal(header[8], 2, "an image with deltas is format version 2");
    const v = await run(srv, validateCommand, { backupImage: `${tmp}/full.ibv` });
    assert.equal(v.code, 0, v.lines.join("\n"));
    // hot copies are judged with their deltas, not spooled: no temporary directory is needed
    const noTmp = await new Deno.Command(BIN, {
      args: ["validate", `--backup-image=${tmp}/full.ibv`, "--no-progress"],
      env: { TMPDIR: `${tmp}/no-such-dir` },
      stdout: "piped",
      stderr: "piped",
    }).output();
    const said = new TextDecoder().decode(noTmp.stderr);
    assert.equal(noTmp.code, 0, said);
    assert.match(said, /validated \d+ of \d+ files: .* 0 corrupt pages/);
    // image-to-backup-dir writes them in place and applies the deltas there: no spool either
    const bin = (args: string[]) =>
      new Deno.Command(BIN, {
        args,
        env: { TMPDIR: `${tmp}/no-such-dir` },
        stdout: "piped",
        stderr: "piped",
      }).output();
    const unpacked = await bin([
      "image-to-backup-dir",
      `--backup-image=${tmp}/full.ibv`,
      `--backup-dir=${tmp}/unpacked`,
    ]);
    assert.equal(unpacked.code, 0, new TextDecoder().decode(unpacked.stderr));
    const um = JSON.parse(await Deno.readTextFile(`${tmp}/unpacked/${MANIFEST_FILE}`)) as Manifest;
    assert.ok(!um.entries.some((e) => e.path.endsWith(".delta")), "deltas applied in place");
    assert.ok(!("compression" in um), "the directory's manifest describes plain files");
    const uv = await run(srv, validateCommand, { backupDir: `${tmp}/unpacked` });
    assert.equal(uv.code, 0, uv.lines.join("\n"));
    // copy-back spools them: without room for that, one line says where and what to do
    const restore = await bin([
      "copy-back",
      "--no-defaults",
      `--socket=${srv.socket}`,
      "--user=root",
      `--backup-image=${tmp}/full.ibv`,
      "--include-tables=^shop\\.small$",
      "--rename=shop.small TO spooltest.small",
    ]);
    const err = new TextDecoder().decode(restore.stderr).trim().split("\n");
    assert.equal(restore.code, 3, err.join("\n"));
    assert.match(
      err.find((l) => /ERROR/.test(l)) ?? "",
      /^ibvault: ERROR: 1 of 1 table\(s\) not restored: .*the source failed: creating a spool for the hot copies in .*no-such-dir: it does not exist \(ENOENT\); .*point TMPDIR/,
    );
    await restoreAndCompare(srv, { backupDir: `${tmp}/full` }, ["orders", "small"], want);
    await restoreAndCompare(srv, { backupImage: `${tmp}/full.ibv` }, ["orders", "small"], want);
    const full = await run(srv, backupCommand, {
      backupDir: `${tmp}/locked`,
      includeTables: "^shop\\.",
      useTts: "with-full-locking",
    });
    assert.equal(full.code, 0);
    assert.equal(full.doc.mode, "with-full-locking");
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});

Deno.test("incremental chains: full -> inc1 -> inc2 through directories and images", async () => {
  await using srv = await startBackupServer();
  await seedShop(srv);
  const tmp = await Deno.makeTempDir();
  const sel = { includeTables: "^shop\\." };
  try {
    assert.equal((await run(srv, backupCommand, { backupDir: `${tmp}/full`, ...sel })).code, 0);
    assert.equal(
      (await run(srv, backupToImageCommand, { backupImage: `${tmp}/full.ibv`, ...sel })).code,
      0,
    );
    await changeChainTables(srv, 1);
    await srv.query("OPTIMIZE TABLE shop.small"); // a rebuilt table: copied whole
    const inc1 = await run(srv, backupCommand, {
      backupDir: `${tmp}/inc1`,
      incremental: true,
      incrementalBase: `dir:${tmp}/full`,
      ...sel,
    });
    assert.equal(inc1.code, 0, inc1.lines.join("\n"));
    assert.equal(inc1.doc.kind, "incremental");
    const t1 = inc1.doc.tablespaces as {
      file: string;
      copy: string;
      reason?: string;
      deltaPages: number;
    }[];
    assert.equal(t1.find((t) => t.file === "shop/orders.ibd")!.copy, "delta");
    assert.match(t1.find((t) => t.file === "shop/small.ibd")!.reason!, /rebuilt since the base/);
    const orders1 = t1.find((t) => t.file === "shop/orders.ibd")!;
    const inc1Img = await run(srv, backupToImageCommand, {
      backupImage: `${tmp}/inc1.ibv`,
      incremental: true,
      incrementalBase: `image:${tmp}/full.ibv`,
      ...sel,
    });
    assert.equal(inc1Img.code, 0, inc1Img.lines.join("\n"));
    await changeChainTables(srv, 2);
    await srv.query("DROP TABLE shop.doomed");
    const inc2 = await run(srv, backupCommand, {
      backupDir: `${tmp}/inc2`,
      incremental: true,
      incrementalBase: `dir:${tmp}/inc1`,
      ...sel,
    });
    assert.equal(inc2.code, 0, inc2.lines.join("\n"));
    assert.deepEqual((inc2.doc.gone as { name: string }[]).map((g) => g.name), ["doomed"]);
    const inc2Img = await run(srv, backupToImageCommand, {
      backupImage: `${tmp}/inc2.ibv`,
      incremental: true,
      incrementalBase: `image:${tmp}/inc1.ibv`,
      ...sel,
    });
    assert.equal(inc2Img.code, 0, inc2Img.lines.join("\n"));
    // an incremental is small: a 1% change copies few pages
    const full = JSON.parse(await Deno.readTextFile(`${tmp}/full/${MANIFEST_FILE}`)) as Manifest;
    const fullOrders = full.entries.find((e) => e.path === "shop/orders.ibd")!.size;
    assert.ok(orders1.deltaPages * 16384 < fullOrders / 2, `${orders1.deltaPages} pages`);
    const want = await checksums(srv, "shop", ["orders", "small"]);
    await restoreAndCompare(
      srv,
      {
        backupDir: `${tmp}/full`,
        incrementalBackupDir: [`${tmp}/inc1`, `${tmp}/inc2`],
      },
      ["orders", "small"],
      want,
    );
    await restoreAndCompare(
      srv,
      {
        backupImage: `${tmp}/full.ibv`,
        incrementalBackupImage: [`${tmp}/inc1.ibv`, `${tmp}/inc2.ibv`],
      },
      ["orders", "small"],
      want,
    );
    // broken chains: inc2 on the full, links out of order
    await assert.rejects(
      run(srv, copyBackCommand, {
        backupDir: `${tmp}/full`,
        incrementalBackupDir: [`${tmp}/inc2`],
        includeTables: "^shop\\.orders$",
        rename: ["shop.orders TO back.orders2"],
      }),
      (e) => e instanceof ChainError && /inc2 does not continue .*full/.test(e.message),
    );
    await assert.rejects(
      run(srv, copyBackCommand, {
        backupImage: `${tmp}/full.ibv`,
        incrementalBackupImage: [`${tmp}/inc2.ibv`, `${tmp}/inc1.ibv`],
        includeTables: "^shop\\.orders$",
        rename: ["shop.orders TO back.orders2"],
      }),
      (e) => e instanceof ChainError && /does not continue/.test(e.message),
    );
    assert.equal((await srv.query<unknown[]>("SHOW TABLES FROM back LIKE 'orders2'")).length, 0);
    // apply-incremental-backup merges the chain into the full directory
    for (const inc of ["inc1", "inc2"]) {
      const a = await run(srv, applyIncrementalBackupCommand, {
        backupDir: `${tmp}/full`,
        incrementalBackupDir: [`${tmp}/${inc}`],
      });
      assert.equal(a.code, 0, a.lines.join("\n"));
    }
    await restoreAndCompare(srv, { backupDir: `${tmp}/full` }, ["orders", "small"], want);
    await assert.rejects(
      run(srv, applyIncrementalBackupCommand, {
        backupDir: `${tmp}/full`,
        incrementalBackupDir: [`${tmp}/inc1`],
      }),
      ChainError,
      "inc1 no longer continues the merged full backup",
    );
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});

Deno.test("an incremental against another server's backup is refused before anything is locked", async () => {
  await using a = await startBackupServer();
  await using b = await startBackupServer();
  const tmp = await Deno.makeTempDir();
  try {
    for (const srv of [a, b]) await seedShop(srv);
    assert.equal(
      (await run(a, backupCommand, { backupDir: `${tmp}/a`, includeTables: "^shop\\." })).code,
      0,
    );
    const ctx = contextFor(b, {
      backupDir: `${tmp}/b-inc`,
      incremental: true,
      incrementalBase: `dir:${tmp}/a`,
      includeTables: "^shop\\.",
    });
    await assert.rejects(
      backupCommand.run(ctx),
      (e) => e instanceof ChainError && /another server/.test(e.message),
    );
    assert.ok(!ctx.report.lines.some((l) => /locked/.test(l)), "nothing was locked");
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});

Deno.test("an incremental takes no page its base has, also while the checkpoint lags behind the base", async () => {
  const tmpdir = await Deno.makeTempDir({ prefix: "ibvault-srvtmp-" });
  await using srv = await startServer({
    extraArgs: [
      `--tmpdir=${tmpdir}`,
      "--innodb-max-dirty-pages-pct=99",
      "--innodb-max-dirty-pages-pct-lwm=0",
      "--innodb-adaptive-flushing=OFF",
      "--innodb-io-capacity=100",
      "--innodb-log-file-size=256M",
    ],
  });
  const tmp = await Deno.makeTempDir();
  try {
    await srv.query(
      "CREATE DATABASE IF NOT EXISTS test; CREATE DATABASE shop; " +
        "CREATE TABLE shop.hold (id INT PRIMARY KEY, v INT); INSERT INTO shop.hold VALUES (1, 0)",
    );
    await srv.query("FLUSH TABLES shop.hold FOR EXPORT; UNLOCK TABLES");
    // A page dirtied now and left in memory holds the checkpoint below all that follows.
    await srv.query("UPDATE shop.hold SET v = 1");
    await srv.query(
      "CREATE TABLE shop.orders (id INT PRIMARY KEY, n INT, pad VARCHAR(200)); " +
        "INSERT INTO shop.orders SELECT seq, seq % 1000, REPEAT(CHAR(65 + seq % 26), 150) " +
        "FROM test.seq_1_to_30000",
    );
    const sel = { includeTables: "^shop\\.orders$" };
    const full = await run(srv, backupCommand, { backupDir: `${tmp}/full`, ...sel });
    assert.equal(full.code, 0, full.lines.join("\n"));
    await srv.query("UPDATE shop.orders SET n = n + 1 WHERE id BETWEEN 100 AND 130");
    const inc = await run(srv, backupCommand, {
      backupDir: `${tmp}/inc`,
      incremental: true,
      incrementalBase: `dir:${tmp}/full`,
      ...sel,
    });
    assert.equal(inc.code, 0, inc.lines.join("\n"));
    const read = async (d: string) =>
      JSON.parse(await Deno.readTextFile(`${tmp}/${d}/${MANIFEST_FILE}`)) as Manifest;
    const base = await read("full");
    const incM = await read("inc");
    // The case itself: the incremental started from a checkpoint below the base's end LSN.
    assert.ok(
      BigInt(incM.startLsn!) < BigInt(base.endLsn!),
      `checkpoint ${incM.startLsn}, base end ${base.endLsn}`,
    );
    const pages = base.entries.find((e) => e.path === "shop/orders.ibd")!.size / 16384;
    const t = (inc.doc.tablespaces as { file: string; deltaPages: number }[])
      .find((t) => t.file === "shop/orders.ibd")!;
    assert.ok(t.deltaPages < 20, `${t.deltaPages} of ${pages} pages in the delta`);
    await restoreAndCompare(
      srv,
      { backupDir: `${tmp}/full`, incrementalBackupDir: [`${tmp}/inc`] },
      ["orders"],
      await checksums(srv, "shop", ["orders"]),
    );
  } finally {
    await Deno.remove(tmp, { recursive: true });
    await Deno.remove(tmpdir, { recursive: true });
  }
});
