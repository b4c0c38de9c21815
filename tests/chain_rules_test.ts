/** Incremental rules (issue 12 item 7) and chain links, as pure functions. */
import assert from "node:assert/strict";
import {
  checkIncrementalBase,
  checkLink,
  incrementalCopy,
  type TablespaceRecord,
} from "../lib/core/chain.ts";
import { identityDifference, type ServerIdentity } from "../lib/core/identity.ts";
import { ChainError } from "../lib/errors.ts";

const base: TablespaceRecord = {
  file: "d/t.ibd",
  spaceId: 5,
  flags: 0x15,
  pageSize: 16384,
  size: 16384 * 10,
  endLsn: "1000",
  copy: "whole",
};
const id: ServerIdentity = {
  flavor: "mariadb",
  serverId: 1,
  hostname: "h",
  datadir: "/d",
  datadirId: "12:34",
};

Deno.test("incrementalCopy: new, rebuilt, shrunk are whole; grown or same is a delta", () => {
  const now = { spaceId: 5, flags: 0x15, pageSize: 16384, size: 16384 * 12 };
  assert.deepEqual(incrementalCopy(base, now), { copy: "delta" });
  assert.match(incrementalCopy(undefined, now).reason!, /new since the base/);
  assert.match(incrementalCopy(base, { ...now, spaceId: 6 }).reason!, /space id 5 -> 6/);
  assert.match(incrementalCopy(base, { ...now, flags: 0x13 }).reason!, /flags/);
  assert.match(incrementalCopy(base, { ...now, pageSize: 8192 }).reason!, /page size/);
  assert.match(incrementalCopy(base, { ...now, size: 16384 * 9 }).reason!, /shrank/);
});

Deno.test("checkIncrementalBase: other server, re-initialised datadir, LSN ahead, no id", () => {
  const b = { where: "full/", id: "a", endLsn: "1000", identity: id };
  assert.equal(checkIncrementalBase(b, id, 2000n), 1000n);
  assert.throws(
    () => checkIncrementalBase(b, { ...id, datadirId: "99:1" }, 2000n),
    (e) => e instanceof ChainError && /another server.*re-initialised/.test(e.message),
  );
  assert.throws(() => checkIncrementalBase(b, { ...id, serverId: 2 }, 2000n), /server_id 1 vs 2/);
  assert.throws(() => checkIncrementalBase(b, id, 999n), /beyond this server's current LSN 999/);
  assert.throws(() => checkIncrementalBase({ ...b, id: undefined }, id, 2000n), /no backup id/);
  assert.equal(identityDifference(id, { ...id, hostname: "renamed", datadir: "/mnt" }), undefined);
});

Deno.test("checkLink: each incremental must continue the previous link", () => {
  const full = { where: "full", id: "f", endLsn: "10" };
  const inc1 = {
    where: "inc1",
    id: "i1",
    endLsn: "20",
    kind: "incremental" as const,
    base: { id: "f", endLsn: "10" },
  };
  const inc2 = {
    where: "inc2",
    id: "i2",
    endLsn: "30",
    kind: "incremental" as const,
    base: { id: "i1", endLsn: "20" },
  };
  checkLink(full, inc1);
  checkLink(inc1, inc2);
  assert.throws(
    () => checkLink(full, inc2),
    (e) => e instanceof ChainError && /inc2 does not continue full/.test(e.message),
  );
  assert.throws(() => checkLink(inc1, full), /not an incremental/);
});
