import assert from "node:assert/strict";
import { UsageError } from "../lib/errors.ts";
import { compileTableFilter, tableMatchForms } from "../lib/names/mod.ts";

const TABLES: [string, string][] = [
  ["db", "àbc"],
  ["db", "à123"],
  ["db", "déf"],
  ["db", "plain"],
  ["other", "àbc"],
  ["weird db", "t.x"],
  ["q`db", "t`1"],
  ["emoji", "😀x"],
];

function select(include?: string, exclude?: string): string[] {
  const f = compileTableFilter({ include, exclude });
  return TABLES.filter(([d, t]) => f(d, t)).map(([d, t]) => `${d}.${t}`);
}

Deno.test("tableMatchForms: the four forms, backticks doubled inside quotes", () => {
  assert.deepEqual(tableMatchForms("db", "t"), ["db.t", "`db`.t", "db.`t`", "`db`.`t`"]);
  assert.deepEqual(tableMatchForms("q`db", "t`1"), [
    "q`db.t`1",
    "`q``db`.t`1",
    "q`db.`t``1`",
    "`q``db`.`t``1`",
  ]);
});

Deno.test("compileTableFilter: no options selects everything", () => {
  assert.equal(select().length, TABLES.length);
});

Deno.test("compileTableFilter: ^db\\.à takes àbc and à123, not déf", () => {
  assert.deepEqual(select("^db\\.à"), ["db.àbc", "db.à123"]);
});

Deno.test("compileTableFilter: the same selection written in each quoting form", () => {
  const expected = ["db.àbc", "db.à123", "db.déf", "db.plain"];
  for (const re of ["^db\\.", "^`db`\\.", "^db\\.`", "^`db`\\.`", "^(db|`db`)\\."]) {
    assert.deepEqual(select(re), expected, re);
  }
  assert.deepEqual(select("^`db`\\.`à"), ["db.àbc", "db.à123"]);
  assert.deepEqual(select("^db\\.`à.*`$"), ["db.àbc", "db.à123"]);
  assert.deepEqual(select("^`db`\\.à\\d+$"), ["db.à123"]);
});

Deno.test("compileTableFilter: names with dots, spaces and backticks", () => {
  assert.deepEqual(select("^`weird db`\\.`t\\.x`$"), ["weird db.t.x"]);
  assert.deepEqual(select("^weird db\\.t\\.x$"), ["weird db.t.x"]);
  assert.deepEqual(select("^`q``db`\\.`t``1`$"), ["q`db.t`1"]);
  assert.deepEqual(select("^q`db\\.t`1$"), ["q`db.t`1"]);
});

Deno.test("compileTableFilter: exclude, and include with exclude", () => {
  assert.deepEqual(select(undefined, "^db\\."), [
    "other.àbc",
    "weird db.t.x",
    "q`db.t`1",
    "emoji.😀x",
  ]);
  assert.deepEqual(select("^db\\.", "déf|plain"), ["db.àbc", "db.à123"]);
  assert.deepEqual(select("àbc", "^`other`"), ["db.àbc"]);
});

Deno.test("compileTableFilter: Unicode-aware expressions", () => {
  assert.deepEqual(select("^emoji\\..x$"), ["emoji.😀x"]); // one dot is one character
  assert.deepEqual(select("^db\\.\\p{L}+$"), ["db.àbc", "db.déf", "db.plain"]);
  assert.deepEqual(select("\\u{1F600}"), ["emoji.😀x"]);
});

Deno.test("compileTableFilter: a search, not anchored", () => {
  assert.deepEqual(select("bc"), ["db.àbc", "other.àbc"]);
});

Deno.test("compileTableFilter: invalid regex is a UsageError quoting it and naming the option", () => {
  assert.throws(() => compileTableFilter({ include: "db.(" }), (err: unknown) => {
    assert.ok(err instanceof UsageError);
    assert.match(err.message, /--include-tables/);
    assert.match(err.message, /"db\.\("/);
    return true;
  });
  assert.throws(() => compileTableFilter({ exclude: "[z-a]" }), (err: unknown) => {
    assert.ok(err instanceof UsageError);
    assert.match(err.message, /--exclude-tables.*"\[z-a\]"/);
    return true;
  });
  // valid without the u flag, invalid with it
  assert.throws(() => compileTableFilter({ include: "\\-" }), UsageError);
});
