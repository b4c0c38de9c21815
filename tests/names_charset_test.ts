import assert from "node:assert/strict";
import { UsageError } from "../lib/errors.ts";
import { decodeArgument } from "../lib/names/mod.ts";

Deno.test("decodeArgument: the utf8 family is identity", () => {
  for (const cs of ["utf8", "utf8mb3", "utf8mb4", "UTF8MB4"]) {
    for (const arg of ["abc", "àbc", "😀", "^db\\.à"]) {
      assert.equal(decodeArgument(arg, cs, "--include-tables"), arg);
    }
  }
});

Deno.test("decodeArgument: latin1 reinterprets the UTF-8 bytes (mojibake)", () => {
  assert.equal(decodeArgument("àbc", "latin1", "--include-tables"), "Ã\u00a0bc");
  assert.equal(decodeArgument("é", "latin1", "--x"), "Ã©");
  assert.equal(decodeArgument("abc", "latin1", "--x"), "abc");
  assert.equal(decodeArgument("€", "latin1", "--x"), "â‚¬"); // E2 82 AC as Windows-1252
  assert.equal(decodeArgument("😀", "latin1", "--x"), "ðŸ˜€"); // F0 9F 98 80
  assert.equal(decodeArgument("\u0081", "latin1", "--x"), "Â\u0081"); // C2 81
  assert.equal(decodeArgument("ï¿½", "LATIN1", "--x"), "Ã¯Â¿Â½");
});

Deno.test("decodeArgument: latin1 refuses arguments whose bytes were already lost", () => {
  assert.throws(() => decodeArgument("\ufffdbc", "latin1", "--rename"), (err: unknown) => {
    assert.ok(err instanceof UsageError);
    assert.match(err.message, /Unicode character conversion failed for --rename argument/);
    return true;
  });
});

Deno.test("decodeArgument: ascii rejects any non-ASCII character", () => {
  assert.equal(decodeArgument("db.t_1", "ascii", "--include-tables"), "db.t_1");
  for (const arg of ["àbc", "a😀", "\u0080", "\ufffd"]) {
    assert.throws(() => decodeArgument(arg, "ascii", "--include-tables"), (err: unknown) => {
      assert.ok(err instanceof UsageError);
      assert.match(err.message, /^Unicode character conversion failed for --include-tables/);
      assert.ok(err.message.includes(JSON.stringify(arg)));
      return true;
    });
  }
});

Deno.test("decodeArgument: unknown charset lists the supported ones", () => {
  assert.throws(() => decodeArgument("x", "koi8r", "--x"), (err: unknown) => {
    assert.ok(err instanceof UsageError);
    assert.match(err.message, /koi8r/);
    assert.match(err.message, /utf8mb4, utf8mb3, utf8, latin1, ascii/);
    return true;
  });
});
