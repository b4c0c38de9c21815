/** The retention policy alone (pure): restic `forget` rules, chains, the newest sound backup. */
import assert from "node:assert/strict";
import { applyPolicy, buckets, type PolicyInput } from "../lib/retention/policy.ts";
import { formatDuration, parseDuration, parseSize } from "../lib/retention/duration.ts";
import { isTimestampName, timestampName } from "../lib/retention/timestamp.ts";

const at = (iso: string, extra: Partial<PolicyInput> = {}): PolicyInput => ({
  name: iso,
  createdAt: new Date(iso),
  kind: "full",
  ...extra,
});
const kept = (ds: { backup: PolicyInput; keep: boolean }[]) =>
  ds.filter((d) => d.keep).map((d) => d.backup.name).sort();

// Nightly backups at 02:00 UTC from 2026-10-01 to 2026-11-30, plus a second one on 11-30.
const nightly: PolicyInput[] = [];
for (let t = Date.UTC(2026, 9, 1, 2); t <= Date.UTC(2026, 10, 30, 2); t += 86_400_000) {
  nightly.push(at(new Date(t).toISOString()));
}
nightly.push(at("2026-11-30T14:00:00.000Z"));

Deno.test("policy: keep-last keeps the N newest", () => {
  const d = applyPolicy(nightly, { last: 3, utc: true });
  assert.deepEqual(kept(d), [
    "2026-11-29T02:00:00.000Z",
    "2026-11-30T02:00:00.000Z",
    "2026-11-30T14:00:00.000Z",
  ]);
  const newest = d.find((x) => x.backup.name === "2026-11-30T14:00:00.000Z")!;
  assert.deepEqual(newest.reasons, ["keep-last 3 (#1)", "newest sound backup (always kept)"]);
  assert.deepEqual(d.find((x) => x.backup.name === "2026-11-01T02:00:00.000Z")!.reasons, [
    "no rule keeps it",
  ]);
});

Deno.test("policy: keep-daily keeps the newest of each of the N latest days", () => {
  const d = applyPolicy(nightly, { daily: 2, utc: true });
  assert.deepEqual(kept(d), ["2026-11-29T02:00:00.000Z", "2026-11-30T14:00:00.000Z"]);
});

Deno.test("policy: weekly (ISO weeks) and monthly buckets, rules add up", () => {
  const d = applyPolicy(nightly, { weekly: 2, monthly: 2, utc: true });
  // 2026-11-30 is a Monday (week 49): newest of W49 is 11-30 14:00, of W48 is Sun 11-29.
  // Months: November → 11-30 14:00, October → 10-31.
  assert.deepEqual(kept(d), [
    "2026-10-31T02:00:00.000Z",
    "2026-11-29T02:00:00.000Z",
    "2026-11-30T14:00:00.000Z",
  ]);
  assert.equal(buckets(new Date("2026-11-29T02:00:00Z"), true).week, "2026-W48");
  assert.equal(buckets(new Date("2026-11-30T02:00:00Z"), true).week, "2026-W49");
  assert.equal(buckets(new Date("2027-01-01T12:00:00Z"), true).week, "2026-W53");
  assert.equal(buckets(new Date("2024-12-30T12:00:00Z"), true).week, "2025-W01");
});

Deno.test("policy: keep-within is measured from the newest backup", () => {
  const d = applyPolicy(nightly, { withinMs: parseDuration("2d", "--keep-within"), utc: true });
  assert.deepEqual(kept(d), [
    "2026-11-29T02:00:00.000Z",
    "2026-11-30T02:00:00.000Z",
    "2026-11-30T14:00:00.000Z",
  ]);
});

Deno.test("policy: a kept incremental keeps its whole chain, and only that chain", () => {
  const chain = [
    at("2026-11-01T02:00:00Z", { name: "full1", id: "f1" }),
    at("2026-11-02T02:00:00Z", { name: "inc1", id: "i1", kind: "incremental", baseId: "f1" }),
    at("2026-11-03T02:00:00Z", { name: "inc2", id: "i2", kind: "incremental", baseId: "i1" }),
    at("2026-11-08T02:00:00Z", { name: "full2", id: "f2" }),
    at("2026-11-09T02:00:00Z", { name: "inc3", id: "i3", kind: "incremental", baseId: "f2" }),
  ];
  const d = applyPolicy(chain, { last: 1, utc: true });
  assert.deepEqual(kept(d), ["full2", "inc3"]);
  const d2 = applyPolicy(chain, { daily: 1, monthly: 0, utc: true, withinMs: 0, last: 0 });
  assert.deepEqual(kept(d2), ["full2", "inc3"]);
  // keep inc2 by a rule (keep-within from the newest: 6 days back reaches 11-03)
  const d3 = applyPolicy(chain, { withinMs: 6 * 86_400_000 + 1, utc: true });
  assert.deepEqual(kept(d3), ["full1", "full2", "inc1", "inc2", "inc3"]);
  const f1 = d3.find((x) => x.backup.name === "full1")!;
  assert.deepEqual(f1.reasons, ["base of kept incremental inc1"]);
});

Deno.test("policy: an incremental whose base is elsewhere says so", () => {
  const d = applyPolicy([
    at("2026-11-02T02:00:00Z", { name: "inc", id: "i", kind: "incremental", baseId: "gone" }),
  ], { last: 1, utc: true });
  assert.equal(d[0].keep, true);
  assert.match(d[0].reasons.join("; "), /its base gone is not in this root/);
});

Deno.test("policy: unsound backups use no slot; the newest sound one is always kept", () => {
  const list = [
    at("2026-11-28T02:00:00Z", { name: "good-old" }),
    at("2026-11-29T02:00:00Z", { name: "good" }),
    at("2026-11-28T12:00:00Z", { name: "bad-middle", problem: "missing entry: a/b.ibd" }),
    at("2026-11-30T02:00:00Z", { name: "bad-newest", problem: "truncated" }),
  ];
  const d = applyPolicy(list, { last: 1, utc: true });
  assert.deepEqual(kept(d), ["bad-newest", "good"]);
  assert.match(d.find((x) => x.backup.name === "bad-middle")!.reasons[0], /not sound/);
  assert.match(d.find((x) => x.backup.name === "bad-newest")!.reasons[0], /left for a look/);
  // Nothing sound at all: nothing goes.
  const none = applyPolicy([list[2], list[3]], { last: 1, utc: true });
  assert.deepEqual(kept(none), ["bad-middle", "bad-newest"]);
});

Deno.test("durations, sizes and timestamp names", () => {
  assert.equal(parseDuration("90s", "--x"), 90_000);
  assert.equal(parseDuration("36h", "--x"), 36 * 3_600_000);
  assert.equal(parseDuration("7d", "--x"), 7 * 86_400_000);
  assert.equal(parseDuration("1d12h", "--x"), 36 * 3_600_000);
  assert.equal(parseDuration("120", "--x"), 120_000);
  assert.throws(
    () => parseDuration("7 days", "--warning-age"),
    /--warning-age=7 days: not a duration/,
  );
  assert.throws(() => parseDuration("", "--x"), /not a duration/);
  assert.equal(parseSize("3GiB", "--min-size"), 3 * 1024 ** 3);
  assert.equal(parseSize("3G", "--min-size"), 3 * 1024 ** 3);
  assert.equal(parseSize("1.5GB", "--min-size"), 1.5e9);
  assert.equal(parseSize("1000", "--min-size"), 1000);
  assert.throws(() => parseSize("lots", "--min-size"), /--min-size=lots: not a size/);
  assert.equal(formatDuration(25_200_000), "7h");
  assert.equal(formatDuration(93_784_000), "1d 2h");
  assert.equal(formatDuration(200_000), "3m 20s");
  const name = timestampName(new Date(2026, 10, 30, 2, 3, 4));
  assert.equal(name, "2026-11-30_02-03-04");
  assert.ok(isTimestampName(name));
  assert.ok(!isTimestampName("2026-11-30"));
});
