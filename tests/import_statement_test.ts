/** Unit tests of the statement rewriting in lib/server/import.ts (no server). */
import assert from "node:assert/strict";
import { renameCreateDatabase, renameCreateTable } from "../lib/server/import.ts";
import { ServerError } from "../lib/errors.ts";

const BODY =
  " (\n  `id` int(11) NOT NULL,\n  `t` varchar(9) DEFAULT 't' COMMENT 'CREATE TABLE `t`',\n" +
  "  PRIMARY KEY (`id`)\n) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4";

Deno.test("renameCreateTable replaces only the name after CREATE TABLE", () => {
  const out = renameCreateTable("CREATE TABLE `t`" + BODY, "db", "t2");
  assert.equal(out, "CREATE TABLE `db`.`t2`" + BODY);
});

Deno.test("renameCreateTable reads any recorded name form", () => {
  for (
    const head of [
      "CREATE TABLE `a``b c.d`",
      'CREATE TABLE "ansi ""q"""',
      "create table t",
      "CREATE  TABLE `old`.`x`",
      "CREATE TABLE `😀`",
    ]
  ) {
    assert.equal(renameCreateTable(head + BODY, "d", "n"), "CREATE TABLE `d`.`n`" + BODY, head);
  }
});

Deno.test("renameCreateTable quotes new names holding backticks, quotes, dots, spaces, non-BMP", () => {
  const out = renameCreateTable("CREATE TABLE `t`" + BODY, "we`ird.db", "new 'x\" `y` 😀");
  assert.equal(out, "CREATE TABLE `we``ird.db`.`new 'x\" ``y`` 😀`" + BODY);
});

Deno.test("renameCreateTable refuses statements of another shape", () => {
  for (
    const s of [
      "CREATE TEMPORARY TABLE `t`" + BODY,
      "CREATE OR REPLACE TABLE `t`" + BODY,
      "CREATE TABLE IF NOT EXISTS `t`" + BODY,
      "CREATE TABLE `t` LIKE `u`",
      "CREATE VIEW `t` AS SELECT 1",
      "CREATE TABLE `t",
    ]
  ) {
    assert.throws(() => renameCreateTable(s, "d", "n"), ServerError, s);
  }
});

Deno.test("renameCreateDatabase keeps the original options", () => {
  const rec = {
    name: "src",
    dir: "src",
    createStatement:
      "CREATE DATABASE `src` /*!40100 DEFAULT CHARACTER SET latin1 COLLATE latin1_german1_ci */",
  };
  assert.equal(
    renameCreateDatabase(rec, "new `db`"),
    "CREATE DATABASE `new ``db``` /*!40100 DEFAULT CHARACTER SET latin1 COLLATE latin1_german1_ci */",
  );
  assert.equal(renameCreateDatabase(undefined, "x"), "CREATE DATABASE `x`");
  assert.equal(
    renameCreateDatabase({ ...rec, createStatement: "garbage" }, "x"),
    "CREATE DATABASE `x`",
  );
});
