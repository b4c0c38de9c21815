import assert from "node:assert/strict";
import { hasUnsafeCharacters, printable } from "../lib/names/printable.ts";

Deno.test("printable: control characters, line separators and bidi controls are escaped", () => {
  assert.equal(printable("db/t.ibd"), "db/t.ibd");
  assert.equal(printable("àbc 😀 日本"), "àbc 😀 日本");
  assert.equal(printable("a\nibvault completed OK!"), "a\\nibvault completed OK!");
  assert.equal(printable("x\x1b[2J\x1b[H"), "x\\x1b[2J\\x1b[H");
  assert.equal(printable("\r\t\x00\x7f\x9b"), "\\r\\t\\x00\\x7f\\x9b");
  assert.equal(printable("a\u2028b\u202ec\u2066"), "a\\u{2028}b\\u{202e}c\\u{2066}");
  assert.equal(hasUnsafeCharacters("a\nb"), true);
  assert.equal(hasUnsafeCharacters("ab"), false);
  assert.equal(hasUnsafeCharacters("ab"), false); // no stale regexp state
});
