import assert from "node:assert/strict";
import { UsageError } from "../lib/errors.ts";
import { parseRename, parseRenames } from "../lib/names/mod.ts";

Deno.test("parseRename: bare and qualified names", () => {
  assert.deepEqual(parseRename("t TO u"), { from: { table: "t" }, to: { table: "u" } });
  assert.deepEqual(parseRename("db.t TO db2.u"), {
    from: { database: "db", table: "t" },
    to: { database: "db2", table: "u" },
  });
  assert.deepEqual(parseRename("  db.t   to\tu  "), {
    from: { database: "db", table: "t" },
    to: { table: "u" },
  });
  assert.deepEqual(parseRename("a To b").to, { table: "b" });
  assert.deepEqual(parseRename("a tO b").to, { table: "b" });
});

Deno.test("parseRename: quoted names with spaces, dots, TO and doubled quotes", () => {
  assert.deepEqual(parseRename('`weird db`.`a TO b` TO \'x y\'."z""q"'), {
    from: { database: "weird db", table: "a TO b" },
    to: { database: "x y", table: 'z"q' },
  });
  assert.deepEqual(parseRename("`d.b`.`t``1` TO `àbc`.`😀`"), {
    from: { database: "d.b", table: "t`1" },
    to: { database: "àbc", table: "😀" },
  });
  assert.deepEqual(parseRename("'it''s' TO to"), {
    from: { table: "it's" },
    to: { table: "to" },
  });
  assert.deepEqual(parseRename("to TO to"), { from: { table: "to" }, to: { table: "to" } });
});

Deno.test("parseRename: errors name the argument", () => {
  const bad = [
    "",
    "t",
    "t u",
    "t TO",
    "TO u",
    "t TO u v",
    "t TOu",
    "tTO u",
    "`t TO u",
    "a.b.c TO d",
    "t INTO u",
    "`` TO u",
    "t TO u.",
  ];
  for (const arg of bad) {
    assert.throws(() => parseRename(arg), (err: unknown) => {
      assert.ok(err instanceof UsageError, `${arg}: ${err}`);
      assert.ok(err.message.includes(`--rename ${JSON.stringify(arg)}`), err.message);
      return true;
    });
  }
});

Deno.test("parseRenames: several renames", () => {
  const r = parseRenames(["a TO b", "db.a TO db.c", "x TO y"]);
  assert.equal(r.length, 3);
  assert.deepEqual(parseRenames([]), []);
});

Deno.test("parseRenames: the same table twice or the same target twice", () => {
  assert.throws(() => parseRenames(["db.a TO b", "`db`.'a' TO c"]), /both rename table db\.a/);
  assert.throws(() => parseRenames(["a TO db.t", "b TO `db`.`t`"]), /both rename onto db\.t/);
  assert.throws(() => parseRenames(["a TO t", "b to t"]), UsageError);
  // different databases are different tables
  assert.equal(parseRenames(["d1.a TO x", "d2.a TO y"]).length, 2);
});
