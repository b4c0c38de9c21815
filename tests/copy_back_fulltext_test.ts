/**
 * copy-back of tables with FULLTEXT indexes (InnoDB does not import them): the
 * indexes are rebuilt, MATCH finds the restored rows, and the server survives
 * writes to the restored table (without the rebuild an INSERT crashes MariaDB 10.11).
 */
import assert from "node:assert/strict";
import { startServer } from "../scripts/throwaway_server.ts";
import { backupTo, checksum, copyBack } from "./fixtures/copy_back.ts";
import { fulltextIndexes } from "../lib/server/fulltext.ts";

Deno.test("fulltextIndexes reads FULLTEXT definitions, odd names and parsers included", () => {
  const create = "CREATE TABLE `t` (\n  `id` int(11) NOT NULL,\n  `a` text,\n  `b` text,\n" +
    "  PRIMARY KEY (`id`),\n  KEY `k` (`id`),\n  FULLTEXT KEY `ft` (`a`),\n" +
    "  FULLTEXT KEY `ft ``b`` ü` (`a`,`b`) COMMENT 'both'\n) ENGINE=InnoDB";
  assert.deepEqual(fulltextIndexes(create), [
    { name: "ft", definition: "FULLTEXT KEY `ft` (`a`)" },
    { name: "ft `b` ü", definition: "FULLTEXT KEY `ft ``b`` ü` (`a`,`b`) COMMENT 'both'" },
  ]);
  assert.deepEqual(fulltextIndexes("CREATE TABLE `t` (\n  `id` int\n)"), []);
});

Deno.test("copy-back: FULLTEXT indexes are rebuilt; MATCH works and writes do not crash the server", async () => {
  await using srv = await startServer();
  await srv.query(
    "CREATE DATABASE docs; USE docs;" +
      "CREATE TABLE docs.`notes ü` (id INT PRIMARY KEY AUTO_INCREMENT, title VARCHAR(100)," +
      " body TEXT, FULLTEXT KEY ft_body (body), FULLTEXT KEY `ft all` (title, body));" +
      "INSERT INTO docs.`notes ü` (title, body) SELECT CONCAT('note ', seq)," +
      " IF(seq % 10 = 0, 'the brown fox jumps', 'nothing to see here') FROM seq_1_to_2000",
  );
  const before = await checksum(srv, "docs.`notes ü`");
  const dir = await backupTo(srv, "^docs\\.");
  try {
    const run = await copyBack(srv, {
      backupDir: dir,
      rename: ["docs.`notes ü` TO restored.`notes ü`"],
    });
    const log = run.lines.join("\n");
    assert.equal(run.code, 0, log);
    assert.match(log, /rebuilt FULLTEXT `ft_body`, `ft all`/);
    assert.doesNotMatch(log, /Index corrupt/, "the import's warning is answered by the rebuild");
    assert.equal(await checksum(srv, "restored.`notes ü`"), before);
    const hits = await srv.query<{ n: number }[]>(
      "SELECT COUNT(*) AS n FROM restored.`notes ü` WHERE MATCH(body) AGAINST('brown')",
    );
    assert.equal(Number(hits[0].n), 200);
    // The write that crashed the server before the rebuild existed.
    await srv.query("INSERT INTO restored.`notes ü` (title, body) VALUES ('new', 'brown cow')");
    const after = await srv.query<{ n: number }[]>(
      "SELECT COUNT(*) AS n FROM restored.`notes ü` WHERE MATCH(title, body) AGAINST('brown')",
    );
    assert.equal(Number(after[0].n), 201);
    const check = await srv.query<{ Msg_text: string }[]>("CHECK TABLE restored.`notes ü`");
    assert.equal(check.at(-1)?.Msg_text, "OK");
    const log2 = await Deno.readTextFile(srv.errorLog);
    assert.doesNotMatch(log2, /got signal|Assertion failure/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
