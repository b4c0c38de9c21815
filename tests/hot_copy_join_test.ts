/**
 * Validating a minimum-locking hot copy with its delta without rebuilding the
 * file (lib/innodb/hot_copy_join.ts) gives the verdict of validating the rebuilt
 * file: for hot copies with torn pages, pages the delta replaces (once or twice),
 * corrupt delta pages, growth, a shrunk file and a COMPLETE delta, the joined
 * verdict and the one of the file rebuilt with `applyDelta` agree: the same
 * corrupt pages with the same reasons, the same page and flavour counts. The pages are built from the format
 * (tests/fixtures/pages.ts, accepted by innochecksum).
 */
import assert from "node:assert/strict";
import { open } from "node:fs/promises";
import type { FileEntry } from "../lib/entry.ts";
import { CorruptionError } from "../lib/errors.ts";
import { applyDelta } from "../lib/innodb/delta_apply.ts";
import { DeltaBuilder } from "../lib/innodb/delta_format.ts";
import { validateEntries } from "../lib/innodb/stream.ts";
import type { FileReport } from "../lib/innodb/report.ts";
import { page, PAGE_SIZE } from "./fixtures/pages.ts";
import { xorshift32 } from "./fixtures/prng.ts";
import { concat } from "./fixtures/tree.ts";
import { buildManifest } from "../lib/core/manifest.ts";
import type { Source } from "../lib/source.ts";
import { rebuildingSource } from "../lib/delta/rebuild_source.ts";

const SPACE = 9;
const PATH = "db/t.ibd";

/** A tablespace of `n` pages, version `v` (LSN and body differ between versions). */
function tablespace(n: number, v: number): Uint8Array {
  const parts = [page(0, SPACE, 8, 5000 + v)];
  for (let i = 1; i < n; i++) parts.push(page(i, SPACE, 17855, 1000 * v + i, (v * 31 + i) & 0xff));
  return concat(parts);
}

interface DeltaPlan {
  /** Runs: first page and its pages' bytes (each a whole number of pages). */
  runs: [number, Uint8Array][];
  final: number;
  complete?: boolean;
  space?: number;
}

async function deltaBytes(plan: DeltaPlan): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  const d = new DeltaBuilder(
    {
      pageSize: PAGE_SIZE,
      spaceId: plan.space ?? SPACE,
      fspFlags: 3 << 6,
      complete: plan.complete ?? false,
      sinceLsn: 1n,
    },
    (b) => Promise.resolve(void parts.push(b.slice())),
  );
  await d.begin();
  for (const [first, bytes] of plan.runs) await d.run(first, bytes);
  await d.end(plan.final);
  return concat(parts);
}

/** An entry whose bytes arrive in chunks of `step` (as an image reader may cut them). */
function entry(path: string, bytes: Uint8Array, step = 3000): FileEntry {
  return {
    path,
    size: bytes.length,
    mode: 0o640,
    data: (async function* () {
      for (let i = 0; i < bytes.length; i += step) yield bytes.slice(i, i + step);
    })(),
  };
}

/** The verdict joined without a rebuild. */
async function joined(hot: Uint8Array, delta: Uint8Array): Promise<FileReport> {
  const reports = await validateEntries(
    (async function* () {
      yield entry(PATH, hot);
      yield entry("db/other.ibd", tablespace(3, 1)); // another file in between, as in an image
      yield entry(`${PATH}.delta`, delta, 5000);
    })(),
    { hotCopies: new Set([PATH]), threshold: 64 },
  );
  assert.equal(reports.length, 2);
  assert.equal(reports[0].status, "valid", "the file in between");
  return reports[1];
}

/** The verdict of the file rebuilt with applyDelta, as copy-back and extract make it. */
async function rebuilt(hot: Uint8Array, delta: Uint8Array): Promise<FileReport> {
  const dir = await Deno.makeTempDir();
  try {
    const file = `${dir}/t.ibd`;
    await Deno.writeFile(file, hot);
    const fh = await open(file, "r+");
    try {
      await applyDelta(fh, entry("d", delta).data, `${PATH}.delta`);
    } finally {
      await fh.close();
    }
    const [r] = await validateEntries(
      (async function* () {
        yield entry(PATH, await Deno.readFile(file));
      })(),
      { threshold: 64 },
    );
    return r;
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

async function same(what: string, hot: Uint8Array, plan: DeltaPlan): Promise<FileReport> {
  const delta = await deltaBytes(plan);
  const a = await joined(hot, delta);
  const b = await rebuilt(hot, delta);
  const view = (r: FileReport) => ({
    name: r.name,
    status: r.status,
    bytes: r.bytes,
    format: r.format,
    corrupt: r.corrupt,
    atLeast: r.atLeast,
    pages: r.pages,
    skippedPages: r.skippedPages,
    flavours: r.flavours,
    flavour: r.flavour,
  });
  assert.deepEqual(view(a), view(b), what);
  return a;
}

function pagesOf(ts: Uint8Array, from: number, to: number): Uint8Array {
  return ts.slice(from * PAGE_SIZE, to * PAGE_SIZE);
}

/** `ts` with pages `nos` all zero (allocated, not written yet). */
function zeroed(ts: Uint8Array, ...nos: number[]): Uint8Array {
  const out = ts.slice();
  for (const no of nos) out.fill(0, no * PAGE_SIZE, (no + 1) * PAGE_SIZE);
  return out;
}

/** `ts` with page `no` torn: its second half from another write. */
function tear(ts: Uint8Array, no: number): Uint8Array {
  const out = ts.slice();
  out.fill(0x77, no * PAGE_SIZE + PAGE_SIZE / 2, no * PAGE_SIZE + PAGE_SIZE - 8);
  return out;
}

Deno.test("hot copy join: torn pages the delta replaces are no corruption; the others are", async () => {
  const newer = tablespace(40, 2);
  const hot = tear(tear(tear(tablespace(40, 1), 5), 17), 30);
  // page 0 and the torn pages 5 and 17 taken again under the lock; 30 not
  const fixed = await same("torn pages replaced", hot, {
    runs: [[0, pagesOf(newer, 0, 1)], [5, pagesOf(newer, 5, 6)], [17, pagesOf(newer, 17, 18)]],
    final: 40,
  });
  assert.equal(fixed.status, "corrupt");
  assert.deepEqual(fixed.corrupt.map((c) => c.page), [30]);
  const all = await same("every torn page replaced", hot, {
    runs: [[0, pagesOf(newer, 0, 1)], [5, pagesOf(newer, 5, 6)], [17, pagesOf(newer, 17, 18)], [
      30,
      pagesOf(newer, 30, 31),
    ]],
    final: 40,
  });
  assert.equal(all.status, "valid");
  assert.equal(all.bytes, 40 * PAGE_SIZE);
});

Deno.test("hot copy join: delta pages are judged; a later run wins; growth and shrinking", async () => {
  const newer = tablespace(60, 3);
  const hot = tear(tablespace(40, 1), 12);
  const badRun = tear(pagesOf(newer, 20, 24), 1); // page 21 corrupt in the delta
  await same("a corrupt delta page", hot, {
    runs: [[0, pagesOf(newer, 0, 1)], [12, pagesOf(newer, 12, 13)], [20, badRun]],
    final: 40,
  });
  const again = await same("page 21 carried again, intact", hot, {
    runs: [[0, pagesOf(newer, 0, 1)], [12, pagesOf(newer, 12, 13)], [20, badRun], [
      21,
      pagesOf(newer, 21, 22),
    ]],
    final: 40,
  });
  assert.equal(again.status, "valid");
  const grown = await same("growth past the hot length", hot, {
    runs: [[0, pagesOf(newer, 0, 1)], [12, pagesOf(newer, 12, 13)], [
      40,
      tear(pagesOf(newer, 40, 60), 7),
    ]],
    final: 60,
  });
  assert.deepEqual(grown.corrupt.map((c) => c.page), [47]);
  const shrunk = await same("a torn page past the final size is cut off", tear(hot, 35), {
    runs: [[0, pagesOf(newer, 0, 1)], [12, pagesOf(newer, 12, 13)]],
    final: 30,
  });
  assert.equal(shrunk.status, "valid");
  assert.equal(shrunk.bytes, 30 * PAGE_SIZE);
});

Deno.test("hot copy join: zero pages written under the lock, and zero pages left, count as the rebuilt file's", async () => {
  const newer = tablespace(30, 2);
  const hot = zeroed(tablespace(30, 1), 3, 25, 26, 27, 28, 29); // the file was extended before the copy
  const r = await same("zero pages", hot, {
    runs: [[0, pagesOf(newer, 0, 1)], [25, pagesOf(newer, 25, 28)]],
    final: 30,
  });
  assert.equal(r.status, "valid");
  assert.deepEqual(r.flavours, { zero: 3, crc32: 27 });
});

Deno.test("hot copy join: a COMPLETE delta discards the hot copy; random plans agree with a rebuild", async () => {
  const garbage = new Uint8Array(30 * PAGE_SIZE).fill(0x41);
  garbage.set(page(0, SPACE, 8), 0);
  const newer = tablespace(25, 4);
  const complete = await same("complete", garbage, {
    runs: [[0, pagesOf(newer, 0, 25)]],
    final: 25,
    complete: true,
  });
  assert.equal(complete.status, "valid");
  const rand = xorshift32(20261202);
  const outcomes = new Set<string>();
  for (let round = 0; round < 12; round++) {
    const n = 20 + (rand() % 30);
    let hot = tablespace(Math.max(1, n - (rand() % 8)), 1);
    const hotPages = hot.length / PAGE_SIZE;
    for (let k = rand() % 5; k > 0; k--) hot = tear(hot, rand() % hotPages);
    for (let k = rand() % 4; k > 0; k--) hot = zeroed(hot, 1 + (rand() % (hotPages - 1)));
    const target = tablespace(n, 2);
    const final = rand() % 5 === 0 ? n - 3 : n; // sometimes the file shrank
    const runs: [number, Uint8Array][] = [[0, pagesOf(target, 0, 1)]];
    for (let k = rand() % 6; k > 0; k--) {
      const first = 1 + (rand() % (final - 1));
      const end = Math.min(final, first + 1 + (rand() % 3));
      const bytes = pagesOf(target, first, end);
      runs.push([first, rand() % 4 === 0 ? tear(bytes, 0) : bytes]);
    }
    if (final > hotPages) runs.push([hotPages, pagesOf(target, hotPages, final)]);
    outcomes.add((await same(`random plan ${round}`, hot, { runs, final })).status);
  }
  assert.deepEqual([...outcomes].sort(), ["corrupt", "valid"], "the plans give both verdicts");
});

Deno.test("hot copy join: a delta of another tablespace, or a missing delta, is refused by name", async () => {
  const hot = tablespace(10, 1);
  const other = await deltaBytes({ runs: [[0, page(0, 77, 8)]], final: 10, space: 77 });
  await assert.rejects(
    joined(hot, other),
    (e) =>
      e instanceof CorruptionError &&
      /db\/t\.ibd\.delta: .*space 77.*space 9.*chain is broken/.test(e.message),
  );
  await assert.rejects(
    validateEntries(
      (async function* () {
        yield entry(PATH, hot);
      })(),
      { hotCopies: new Set([PATH]), name: "img.ibv" },
    ),
    (e) =>
      e instanceof CorruptionError &&
      /^img\.ibv: db\/t\.ibd is a hot copy whose delta is missing$/.test(e.message),
  );
});

Deno.test("rebuilding source, pairs as stored: a hot copy whose delta never comes is refused at the end", async () => {
  const manifest = buildManifest({
    options: {},
    tables: [{
      database: "db",
      name: "t",
      engine: "InnoDB",
      createStatement: "CREATE TABLE t (a INT)",
      files: [PATH, `${PATH}.delta`],
    }],
  });
  const stored = (paths: string[]): Source => ({
    name: "img.ibv",
    manifest,
    seen: new Map(),
    entries: async function* () {
      for (const p of paths) yield entry(p, p === PATH ? tablespace(4, 1) : await deltaOf4());
    },
    close: () => Promise.resolve(),
  });
  const deltaOf4 = () => deltaBytes({ runs: [[0, page(0, SPACE, 8)]], final: 4 });
  const drain = async (s: Source) => {
    for await (const e of s.entries()) for await (const _ of e.data) { /* read */ }
  };
  const whole = rebuildingSource(stored([PATH, `${PATH}.delta`]), "/nonexistent", {
    pairsAsStored: true,
  });
  assert.deepEqual([...whole.hotCopies], [PATH]);
  await drain(whole); // no spool is made (its directory does not exist)
  await assert.rejects(
    drain(rebuildingSource(stored([PATH]), "/nonexistent", { pairsAsStored: true })),
    (e) =>
      e instanceof CorruptionError &&
      e.message === "img.ibv: db/t.ibd is a hot copy whose delta is missing",
  );
});
