import assert from "node:assert/strict";
import { UsageError } from "../lib/errors.ts";
import {
  formatQualifiedName,
  parseIdentifier,
  parseQualifiedName,
  quoteIdentifier,
  quoteTable,
} from "../lib/names/mod.ts";

Deno.test("quoteIdentifier: backticks, doubled backtick inside", () => {
  assert.equal(quoteIdentifier("abc"), "`abc`");
  assert.equal(quoteIdentifier("a`b"), "`a``b`");
  assert.equal(quoteIdentifier("``"), "``````");
  assert.equal(quoteIdentifier("weird db"), "`weird db`");
  assert.equal(quoteIdentifier("a.b"), "`a.b`");
  assert.equal(quoteIdentifier("@#'\""), "`@#'\"`");
  assert.equal(quoteIdentifier("àbc"), "`àbc`");
  assert.equal(quoteIdentifier("😀"), "`😀`");
});

Deno.test("quoteIdentifier: rejects empty names and NUL", () => {
  assert.throws(() => quoteIdentifier(""), UsageError);
  assert.throws(() => quoteIdentifier("a\0b"), UsageError);
});

Deno.test("quoteTable", () => {
  assert.equal(quoteTable("d b", "t`x"), "`d b`.`t``x`");
  assert.throws(() => quoteTable("", "t"), UsageError);
});

Deno.test("parseIdentifier: bare and the three quotes", () => {
  assert.equal(parseIdentifier("abc"), "abc");
  assert.equal(parseIdentifier("  àbc "), "àbc");
  assert.equal(parseIdentifier("😀"), "😀");
  assert.equal(parseIdentifier("a@b#c$"), "a@b#c$");
  assert.equal(parseIdentifier("`a b`"), "a b");
  assert.equal(parseIdentifier("`a``b`"), "a`b");
  assert.equal(parseIdentifier("'a''b'"), "a'b");
  assert.equal(parseIdentifier('"a""b"'), 'a"b');
  assert.equal(parseIdentifier("`a'b\"c`"), "a'b\"c");
  assert.equal(parseIdentifier("'a`b'"), "a`b");
  assert.equal(parseIdentifier("`a.b`"), "a.b");
  assert.equal(parseIdentifier("`  `"), "  ");
  assert.equal(parseIdentifier("`a\\b`"), "a\\b");
});

Deno.test("parseIdentifier: errors are UsageErrors naming the argument", () => {
  for (
    const bad of ["", "   ", "``", "''", "`abc", "'abc", "`a`b", "a b", "a.b", "`a`.`b`", "a`"]
  ) {
    assert.throws(() => parseIdentifier(bad, "--thing"), (err: unknown) => {
      assert.ok(err instanceof UsageError, `${bad}: ${err}`);
      assert.match(err.message, /^--thing: /);
      return true;
    });
  }
  assert.throws(() => parseIdentifier("`a\0b`"), UsageError);
  assert.throws(() => parseIdentifier("a\0b"), UsageError);
});

Deno.test("parseQualifiedName: db.tbl, tbl, dots inside quotes", () => {
  assert.deepEqual(parseQualifiedName("db.tbl"), { database: "db", table: "tbl" });
  assert.deepEqual(parseQualifiedName("tbl"), { table: "tbl" });
  assert.deepEqual(parseQualifiedName("`d.b`.`t`"), { database: "d.b", table: "t" });
  assert.deepEqual(parseQualifiedName("`d.b`"), { table: "d.b" });
  assert.deepEqual(parseQualifiedName("'x y'.\"t.u\""), { database: "x y", table: "t.u" });
  assert.deepEqual(parseQualifiedName("db.`t``x`"), { database: "db", table: "t`x" });
  assert.deepEqual(parseQualifiedName(" db . tbl "), { database: "db", table: "tbl" });
  assert.deepEqual(parseQualifiedName("`weird db`.àbc"), { database: "weird db", table: "àbc" });
  assert.deepEqual(parseQualifiedName("😀.`😀`"), { database: "😀", table: "😀" });
});

Deno.test("parseQualifiedName: errors", () => {
  for (const bad of ["", "a.b.c", "a.", ".b", "a..b", "`a`x", "a b", "`a", "db.``"]) {
    assert.throws(() => parseQualifiedName(bad), UsageError, bad);
  }
});

Deno.test("formatQualifiedName", () => {
  assert.equal(formatQualifiedName({ table: "t" }), "`t`");
  assert.equal(formatQualifiedName({ database: "d`", table: "t" }), "`d```.`t`");
});
