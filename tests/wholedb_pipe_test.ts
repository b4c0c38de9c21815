/**
 * The built binary: a whole database streamed with `backup-to-image
 * --backup-image=-` straight into `copy-back --backup-image=-` on a second,
 * freshly initialised server (what `| ssh host ibvault copy-back` does), one
 * command on each side; then list-image shows what the image holds.
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { startServer } from "../scripts/throwaway_server.ts";
import { checkBehaviour, seedShop, snapshot } from "./wholedb_fixture.ts";

const built = fileURLToPath(new URL("../dist/ibvault", import.meta.url));

function ibvault(args: string[], stdin: "piped" | "null" = "null") {
  return new Deno.Command(built, { args, stdin, stdout: "piped", stderr: "piped" }).spawn();
}

Deno.test("binary: a whole database piped from backup-to-image into copy-back on a fresh server", async () => {
  assert.ok(existsSync(built), "dist/ibvault is missing: run deno task compile first");
  await using src = await startServer({ extraArgs: ["--log-bin=src-bin", "--server-id=11"] });
  await using dst = await startServer();
  await seedShop(src);
  const w = ibvault([
    "backup-to-image",
    "--no-defaults",
    `--socket=${src.socket}`,
    "--user=root",
    "--include-tables=^shop\\.",
    "--backup-image=-",
    "--compress",
  ]);
  const r = ibvault([
    "copy-back",
    "--no-defaults",
    `--socket=${dst.socket}`,
    "--user=root",
    "--backup-image=-",
  ], "piped");
  const piping = w.stdout.pipeTo(r.stdin).catch(() => {});
  const [wErr, wo, ro] = await Promise.all([new Response(w.stderr).text(), w.status, r.output()]);
  await piping;
  const dec = new TextDecoder();
  const rErr = dec.decode(ro.stderr);
  assert.equal(wo.code, 0, wErr);
  assert.equal(ro.code, 0, rErr);
  assert.match(wErr, /hot copy done; locked/, "minimum locking (the default)");
  assert.match(wErr, /binary log position: src-bin\.\d+:\d+, GTID 0-11-\d+/);
  assert.match(rErr, /created view `shop`.`v_big`/);
  assert.match(rErr.trimEnd().split("\n").at(-1)!, /ibvault completed OK!/);
  assert.deepEqual(await snapshot(dst, "shop"), await snapshot(src, "shop"));
  await checkBehaviour(dst, "shop");

  // list-image of the same backup as a file: the binlog position and the objects
  const dir = await Deno.makeTempDir({ prefix: "ibvault-wholedb-img-" });
  try {
    const img = `${dir}/shop.ibv`;
    const b = await ibvault([
      "backup-to-image",
      "--no-defaults",
      `--socket=${src.socket}`,
      "--user=root",
      "--include-tables=^shop\\.",
      `--backup-image=${img}`,
    ]).output();
    assert.equal(b.code, 0, dec.decode(b.stderr));
    const l = await ibvault(["list-image", "--no-defaults", `--backup-image=${img}`]).output();
    const text = dec.decode(l.stdout);
    assert.equal(l.code, 0, dec.decode(l.stderr));
    assert.match(text, /binlog position: src-bin\.\d+:\d+, GTID 0-11-\d+/);
    assert.match(
      text,
      /objects: 2 view\(s\), 1 procedure\(s\), 2 function\(s\), 1 trigger\(s\), 1 event\(s\)/,
    );
    assert.match(text, /shop\/legacy\.sql/);
    assert.match(text, /with-minimum-locking/);
    const j = await ibvault(["list-image", "--no-defaults", "--json", `--backup-image=${img}`])
      .output();
    const doc = JSON.parse(dec.decode(j.stdout));
    const body = doc.result ?? doc;
    assert.match(JSON.stringify(body), /"gtidBinlogPos":"0-11-\d+"/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
