/** Partitioned tables restored through a staging table and EXCHANGE PARTITION, on a real server. */
import assert from "node:assert/strict";
import { copyFile, mkdir, readdir, rm } from "node:fs/promises";
import { startServer } from "../scripts/throwaway_server.ts";
import { connect } from "../lib/server/connection.ts";
import {
  checkPartitions,
  importPartitions,
  partitionFilter,
  partitionLabel,
  partitionSqlName,
} from "../lib/server/partitions.ts";
import { decodeFilename } from "../lib/names/filename.ts";
import { UsageError } from "../lib/errors.ts";

Deno.test("partition labels and --include-partitions", () => {
  assert.equal(partitionLabel("shop/p#P#p0.ibd", decodeFilename), "p0");
  assert.equal(partitionLabel("shop/p#P#a#SP#asp0.cfg", decodeFilename), "a/asp0");
  assert.equal(partitionLabel("shop/p#p#p@0020x#sp#s1.ibd", decodeFilename), "p x/s1");
  assert.equal(partitionLabel("shop/p.ibd", decodeFilename), undefined);
  assert.equal(partitionSqlName("a/asp0"), "asp0");
  const f = partitionFilter("^a$");
  assert.ok(f("a/asp0") && f("a/asp1") && !f("b/bsp0"));
  assert.ok(partitionFilter("^bsp1$")("b/bsp1"));
  assert.ok(partitionFilter(undefined)("anything"));
  assert.throws(() => partitionFilter("("), UsageError);
});

Deno.test("partitioned table: every partition, then one partition, through EXCHANGE PARTITION", async () => {
  await using srv = await startServer();
  await srv.query(
    "CREATE DATABASE shop;" +
      "CREATE TABLE shop.p (id INT PRIMARY KEY, v VARCHAR(20)) PARTITION BY RANGE (id) " +
      "SUBPARTITION BY HASH (id) SUBPARTITIONS 2 " +
      "(PARTITION a VALUES LESS THAN (100), PARTITION b VALUES LESS THAN MAXVALUE);" +
      "INSERT INTO shop.p SELECT seq, CONCAT('v', seq) FROM shop.seq_1_to_300;",
  );
  const [before] = await srv.query<{ Checksum: number }[]>("CHECKSUM TABLE shop.p");
  const saved = await Deno.makeTempDir({ prefix: "ibvault-parts-" });
  const conn = await connect({ socket: srv.socket, user: "root" });
  try {
    await conn.query("FLUSH TABLES shop.p FOR EXPORT");
    const files = (await readdir(`${srv.datadir}/shop`)).filter((f) => f.startsWith("p#P#"));
    assert.equal(files.length, 8, "4 subpartitions, .ibd and .cfg each");
    for (const f of files) await copyFile(`${srv.datadir}/shop/${f}`, `${saved}/${f}`);
    await conn.query("UNLOCK TABLES");
    const labels = [...new Set(files.map((f) => partitionLabel(f, decodeFilename)!))].sort();
    assert.deepEqual(labels, ["a/asp0", "a/asp1", "b/bsp0", "b/bsp1"]);

    const stage = `${srv.datadir}/#ibvault-stage-test`;
    const stageFiles = async (want: string[]) => {
      await mkdir(stage, { recursive: true });
      return await Promise.all(want.map(async (label, i) => {
        const stem = files.find((f) => partitionLabel(f, decodeFilename) === label)!.replace(
          /\.(ibd|cfg)$/,
          "",
        );
        await copyFile(`${saved}/${stem}.ibd`, `${stage}/${i}.ibd`);
        await copyFile(`${saved}/${stem}.cfg`, `${stage}/${i}.cfg`);
        return { label, ibd: `${stage}/${i}.ibd`, cfg: `${stage}/${i}.cfg` };
      }));
    };
    await srv.query("CREATE TABLE shop.p2 LIKE shop.p");
    assert.deepEqual(await checkPartitions(conn, "shop", "p2", labels, false), []);
    const warnings = await importPartitions({
      conn,
      flavor: "mariadb",
      datadir: srv.datadir,
      database: "shop",
      table: "p2",
      partitions: await stageFiles(labels),
    });
    assert.deepEqual(warnings, []);
    const [after] = await srv.query<{ Checksum: number }[]>("CHECKSUM TABLE shop.p2");
    assert.equal(after.Checksum, before.Checksum);
    const left = (await readdir(`${srv.datadir}/shop`)).filter((f) => f.includes("ibvault"));
    assert.deepEqual(left, [], "no staging table is left");

    // one partition into an existing table: non-empty refused, empty accepted
    const one = labels.filter(partitionFilter("^a$"));
    const problems = await checkPartitions(conn, "shop", "p2", one, false);
    assert.equal(problems.length, 2);
    assert.match(problems[0], /`shop`.`p2` partition a\/asp0 holds \d+ row\(s\).*--force/);
    await srv.query("ALTER TABLE shop.p2 TRUNCATE PARTITION a");
    await srv.query("UPDATE shop.p2 SET v = 'changed' WHERE id >= 100");
    assert.deepEqual(await checkPartitions(conn, "shop", "p2", one, false), []);
    await importPartitions({
      conn,
      flavor: "mariadb",
      datadir: srv.datadir,
      database: "shop",
      table: "p2",
      partitions: await stageFiles(one),
    });
    const [counts] = await srv.query<Record<string, number>[]>(
      "SELECT COUNT(*) AS n, SUM(v = 'changed') AS changed, SUM(id < 100 AND v = CONCAT('v', id)) AS a FROM shop.p2",
    );
    assert.deepEqual(
      { n: Number(counts.n), changed: Number(counts.changed), a: Number(counts.a) },
      { n: 300, changed: 201, a: 99 },
    );
    // a partition the table does not have
    assert.match(
      (await checkPartitions(conn, "shop", "p2", ["c/csp0"], true))[0],
      /has no partition c\/csp0/,
    );
  } finally {
    await conn.end();
    await rm(saved, { recursive: true, force: true });
  }
});
