import assert from "node:assert/strict";
import { UsageError } from "../lib/errors.ts";
import {
  argumentLabel,
  charsetOnCommandLine,
  checkCharset,
  decodeArgumentBytes,
  decodeCommandLine,
  showBytes,
} from "../lib/names/mod.ts";
import { commandLineBytes } from "../lib/names/cmdline.ts";
import { decodeArguments } from "../lib/commands/command_line.ts";

const utf8 = (s: string) => new TextEncoder().encode(s);
const bytes = (...b: number[]) => Uint8Array.from(b);

Deno.test("decodeArgumentBytes: the utf8 family takes valid UTF-8 and refuses anything else", () => {
  for (const cs of ["utf8mb4", "utf8mb3", "utf8", "UTF8MB4"]) {
    for (const arg of ["àbc", "db.`tbl`", "😀", "\ufffd", ""]) {
      assert.equal(decodeArgumentBytes(utf8(arg), cs, "--include-tables argument"), arg);
    }
  }
  for (const bad of [bytes(0xe0), bytes(0x61, 0xff), bytes(0xc0, 0x80), bytes(0xed, 0xa0, 0x80)]) {
    assert.throws(() => decodeArgumentBytes(bad, "utf8mb4", "--rename argument"), (e: unknown) => {
      assert.ok(e instanceof UsageError);
      assert.match(e.message, /^Unicode character conversion failed for --rename argument "/);
      assert.match(e.message, /not valid UTF-8; give --default-character-set=CHARSET/);
      return true;
    });
  }
});

Deno.test("decodeArgumentBytes: single-byte sets through TextDecoder", () => {
  assert.equal(decodeArgumentBytes(bytes(0x61, 0xe0), "latin1", "x"), "aà");
  assert.equal(decodeArgumentBytes(bytes(0x80, 0x81), "latin1", "x"), "€\u0081"); // MySQL latin1 = cp1252
  // The UTF-8 bytes of à read as latin1: the mojibake mysqlbackup shows.
  assert.equal(decodeArgumentBytes(utf8("à"), "latin1", "x"), "Ã\u00a0");
  assert.equal(decodeArgumentBytes(bytes(0xe0), "hebrew", "x"), "א");
  assert.equal(decodeArgumentBytes(bytes(0xe1), "greek", "x"), "α");
  assert.equal(decodeArgumentBytes(bytes(0xe0), "cp1251", "x"), "а");
  assert.equal(decodeArgumentBytes(bytes(0x8a), "cp1250", "x"), "Š");
  assert.equal(decodeArgumentBytes(bytes(0xb1), "latin2", "x"), "ą");
  assert.equal(decodeArgumentBytes(bytes(0xc1), "koi8r", "x"), "а");
  assert.throws(
    () => decodeArgumentBytes(bytes(0xa1), "hebrew", "--x argument"),
    /not hebrew text/,
  );
});

Deno.test("decodeArgumentBytes: ascii refuses any byte over 0x7F, naming it", () => {
  assert.equal(decodeArgumentBytes(utf8("db.t_1"), "ascii", "x"), "db.t_1");
  assert.throws(
    () => decodeArgumentBytes(utf8("aà"), "ascii", "--include-tables argument"),
    {
      name: "UsageError",
      message: 'Unicode character conversion failed for --include-tables argument "aà": ' +
        "byte 2 (0xC3) is not an ASCII character",
    },
  );
});

Deno.test("checkCharset: unknown sets and ones a command line cannot carry are usage errors", () => {
  for (const cs of ["latin1", "HEBREW", "greek", "cp1251", "cp1250", "latin2", "sjis"]) {
    checkCharset(cs);
  }
  assert.throws(() => checkCharset("bogus"), (e: unknown) => {
    assert.ok(e instanceof UsageError);
    assert.match(e.message, /unknown character set "bogus" \(supported: utf8mb4, .*latin1.*hebrew/);
    return true;
  });
  for (const cs of ["utf16", "UCS2", "utf32", "utf16le"]) {
    assert.throws(
      () => checkCharset(cs),
      /not usable for a command line: its characters hold zero bytes/,
    );
  }
  assert.throws(
    () => checkCharset("a\x1b[2J"),
    (e: unknown) => !(e as Error).message.includes("\x1b"),
  );
});

Deno.test("showBytes: UTF-8 as text, stray bytes as \\xNN, controls escaped", () => {
  assert.equal(showBytes(bytes(0x61, 0xe0, 0x62)), "a\\xE0b");
  assert.equal(showBytes(utf8("à\n\x1b")), "à\\n\\x1b");
  assert.equal(showBytes(bytes(0xf0, 0x9f, 0x98)), "\\xF0\\x9F\\x98");
});

Deno.test("charsetOnCommandLine and argumentLabel read raw arguments", () => {
  assert.equal(charsetOnCommandLine([utf8("x"), utf8("--default-character-set=latin1")]), "latin1");
  assert.equal(charsetOnCommandLine([utf8("--default_character_set"), utf8("greek")]), "greek");
  assert.equal(
    charsetOnCommandLine([utf8("--"), utf8("--default-character-set=latin1")]),
    undefined,
  );
  const args = [
    utf8("copy-back"),
    utf8("--rename"),
    bytes(0xe0),
    utf8("--backup-dir=/\xff"),
    utf8("f"),
  ];
  assert.equal(argumentLabel(args, 2), "--rename argument");
  assert.equal(argumentLabel(args, 3), "--backup-dir argument");
  assert.equal(argumentLabel(args, 4), "command-line argument 5");
  assert.throws(() => decodeCommandLine(args, "utf8mb4"), /--rename argument "\\xE0"/);
  assert.deepEqual(decodeCommandLine(args.slice(0, 3), "latin1"), ["copy-back", "--rename", "à"]);
});

Deno.test("commandLineBytes: arguments holding U+FFFD are taken from the raw command line", () => {
  const cmdline = Uint8Array.from([...utf8("ibvault\0x\0"), 0x61, 0xe0, 0, ...utf8("\ufffd\0")]);
  assert.deepEqual(commandLineBytes(["x", "y"], cmdline), ["x", "y"]); // nothing lost: as they are
  const got = commandLineBytes(["x", "a\ufffd", "\ufffd"], cmdline);
  assert.deepEqual(got, [utf8("x"), bytes(0x61, 0xe0), utf8("\ufffd")]);
  // A command line that does not match the arguments is not trusted.
  assert.deepEqual(commandLineBytes(["b\ufffd"], cmdline), ["b\ufffd"]);
  // Arguments whose bytes were lost are refused, not used.
  const lost = decodeArguments(["validate", "--backup-dir=/a\ufffd"]);
  assert.equal(lost.parse(2).command, "validate");
  assert.throws(() => lost.underCharset("utf8mb4", 2), /--backup-dir argument .* were lost/);
  assert.throws(() => lost.underCharset("latin1", 2), /--backup-dir argument .* were lost/);
});

Deno.test("decodeArguments: an option file's character set re-reads the command line", () => {
  const raw = [utf8("copy-back"), Uint8Array.from([...utf8("--rename=a TO "), 0xe9])];
  const line = decodeArguments(raw);
  const first = line.parse(2); // not UTF-8: deferred until the option files are known
  assert.equal(first.command, "copy-back");
  assert.deepEqual(line.underCharset("latin1", 2)?.options.rename, ["a TO é"]);
  const utf = decodeArguments(raw);
  utf.parse(2);
  assert.throws(() => utf.underCharset("utf8mb4", 2), /not valid UTF-8/);
  // Given on the command line, the command line's set wins and is applied at once.
  const l1 = decodeArguments([...raw, utf8("--default-character-set=latin1")]);
  assert.deepEqual(l1.parse(2).options.rename, ["a TO é"]);
  assert.equal(l1.underCharset("utf8mb4", 2), undefined);
  assert.throws(
    () => decodeArguments([...raw, utf8("--default-character-set=ascii")]).parse(2),
    /ASCII/,
  );
});
