/** Completeness of what was seen against a manifest, on its own. */
import assert from "node:assert/strict";
import { checkCompleteness, describeCompleteness } from "../lib/core/completeness.ts";
import { buildManifest } from "../lib/core/manifest.ts";

const manifest = buildManifest({
  options: {},
  entries: [
    { path: "db/a.ibd", size: 10, crc32c: "0000000a" },
    { path: "db/b.ibd", size: 20, crc32c: "0000000b" },
    { path: "db/c.ibd", size: 30, crc32c: "0000000c" },
    { path: "db/d.ibd", size: 40, crc32c: "0000000d" },
  ],
});

Deno.test("completeness: missing, truncated, oversized, altered, unexpected, by name", () => {
  const seen = new Map([
    ["db/a.ibd", { size: 10, crc32c: "0000000A" }], // same, CRC case does not matter
    ["db/b.ibd", { size: 5 }],
    ["db/c.ibd", { size: 30, crc32c: "ffffffff" }],
    ["db/x.ibd", { size: 1 }],
  ]);
  const r = checkCompleteness(manifest, seen);
  assert.equal(r.ok, false);
  assert.deepEqual(r.missing, ["db/d.ibd"]);
  assert.deepEqual(r.truncated, [{ path: "db/b.ibd", expected: 20, found: 5 }]);
  assert.deepEqual(r.altered, ["db/c.ibd"]);
  assert.deepEqual(r.unexpected, ["db/x.ibd"]);
  assert.deepEqual(describeCompleteness(r), [
    "missing entry: db/d.ibd",
    "truncated entry: db/b.ibd (5 of 20 bytes)",
    "altered entry (CRC-32C mismatch): db/c.ibd",
    "unexpected entry (not in the manifest): db/x.ibd",
  ]);
  const big = checkCompleteness(manifest, new Map([...seen, ["db/b.ibd", { size: 25 }]]));
  assert.match(describeCompleteness(big)[1], /^oversized entry: db\/b\.ibd \(25 of 20 bytes\)$/);
});

Deno.test("completeness: all there is ok; a streamed manifest finds nothing unexpected", () => {
  const all = new Map(manifest.entries.map((e) => [e.path, { size: e.size, crc32c: e.crc32c }]));
  assert.equal(checkCompleteness(manifest, all).ok, true);
  const streamed = buildManifest({ options: {} });
  const r = checkCompleteness(streamed, new Map([["db/a.ibd", { size: 1 }]]));
  assert.equal(r.ok, true);
  assert.deepEqual(r.unexpected, []);
});
