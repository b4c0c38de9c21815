/**
 * `validate` of an incremental backup on its own (issue 12 item 8), directory and
 * image, against a real MariaDB: its deltas are checked page by page and its
 * chain fields, it says what it cannot check without its base, and exits 0 when
 * what is there is sound; a corrupt page in a delta, a damaged delta or a
 * manifest that does not name its base exit 1.
 */
import assert from "node:assert/strict";
import type { ThrowawayServer } from "../scripts/throwaway_server.ts";
import { backupCommand } from "../lib/commands/backup.ts";
import { backupToImageCommand } from "../lib/commands/backup_to_image.ts";
import { validateCommand } from "../lib/commands/validate.ts";
import type { Options } from "../lib/commands/options.ts";
import { contextFor, startBackupServer } from "./fixtures/server.ts";
import { corruptOnePage } from "./delta_helpers.ts";
import { CHAIN_TABLES } from "./fixtures/chain.ts";

async function run(
  srv: ThrowawayServer,
  cmd: { run: (c: ReturnType<typeof contextFor>) => Promise<number> },
  options: Partial<Options>,
) {
  const ctx = contextFor(srv, { json: true, ...options });
  const code = await cmd.run(ctx);
  return { code, doc: ctx.json.at(-1) as Record<string, unknown>, lines: ctx.report.lines };
}

Deno.test("validate an incremental on its own: deltas checked page by page, what needs the base said", async () => {
  await using srv = await startBackupServer();
  await srv.query(
    CHAIN_TABLES,
  );
  const tmp = await Deno.makeTempDir();
  try {
    const full = await run(srv, backupCommand, {
      backupDir: `${tmp}/full`,
      includeTables: "^shop\\.",
    });
    assert.equal(full.code, 0, full.lines.join("\n"));
    await srv.query(
      "UPDATE shop.orders SET n = n + 1 WHERE id BETWEEN 3000 AND 3300;" +
        "UPDATE shop.small SET v = v + 1 WHERE id < 200",
    );
    const inc = {
      includeTables: "^shop\\.",
      incremental: true,
      incrementalBase: `dir:${tmp}/full`,
    };
    const dir = await run(srv, backupCommand, { ...inc, backupDir: `${tmp}/inc` });
    assert.equal(dir.code, 0, dir.lines.join("\n"));
    const img = await run(srv, backupToImageCommand, { ...inc, backupImage: `${tmp}/inc.ibv` });
    assert.equal(img.code, 0, img.lines.join("\n"));

    for (const where of [{ backupDir: `${tmp}/inc` }, { backupImage: `${tmp}/inc.ibv` }]) {
      const v = await run(srv, validateCommand, where);
      const text = v.lines.join("\n");
      assert.equal(v.code, 0, text);
      assert.match(text, /is an incremental backup \(continues [0-9a-f-]{36}, end LSN \d+\)/);
      assert.match(text, /2 delta file\(s\) were checked page by page/);
      assert.match(text, /rebuilding and validating them needs the chain/);
      const files = v.doc.files as { name: string; status: string; pages: number }[];
      const deltas = files.filter((f) => f.name.endsWith(".ibd.delta"));
      assert.deepEqual(deltas.map((f) => f.status), ["valid", "valid"], JSON.stringify(files));
      assert.ok(deltas.every((f) => f.pages >= 1));
    }

    // a page of a delta corrupt (its run CRC right): named, exit 1
    const victim = await corruptOnePage(`${tmp}/inc/shop/orders.ibd.delta`);
    assert.ok(victim > 0);
    const bad = await run(srv, validateCommand, { backupDir: `${tmp}/inc`, verbose: true });
    const badText = bad.lines.join("\n");
    assert.equal(bad.code, 1, badText);
    assert.match(badText, /shop\/orders\.ibd\.delta .*is corrupt and has : 1 corrupt pages/);
    assert.match(badText, new RegExp(`page ${victim}:`));

    // a delta's bytes damaged (run CRC): the structure is reported, exit 1
    const f = `${tmp}/inc/shop/small.ibd.delta`;
    const bytes = await Deno.readFile(f);
    bytes[bytes.length - 100] ^= 1;
    await Deno.writeFile(f, bytes);
    const torn = await run(srv, validateCommand, { backupDir: `${tmp}/inc` });
    assert.equal(torn.code, 1);
    assert.match(
      torn.lines.join("\n"),
      /small\.ibd\.delta: delta (pages .* checksum mismatch|run header)/,
    );

    // an incremental manifest that does not name its base: exit 1
    const img2 = await run(srv, backupCommand, { ...inc, backupDir: `${tmp}/inc2` });
    assert.equal(img2.code, 0);
    const mf = `${tmp}/inc2/ibvault_manifest.json`;
    const m = JSON.parse(await Deno.readTextFile(mf));
    delete m.base;
    await Deno.writeTextFile(mf, JSON.stringify(m));
    const nobase = await run(srv, validateCommand, { backupDir: `${tmp}/inc2` });
    assert.equal(nobase.code, 1);
    assert.match(nobase.lines.join("\n"), /does not say which backup it continues/);
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});
