/** Reading LSNs from MySQL's SHOW ENGINE INNODB STATUS text (no MySQL server here). */
import assert from "node:assert/strict";
import { parseInnodbStatusLsns } from "../lib/server/lsn.ts";
import { ServerError } from "../lib/errors.ts";

// The LOG section as MySQL 8.0 prints it (storage/innobase/log/log0log.cc, log_print()):
// "Log sequence number", "Log buffer assigned up to", "Log buffer completed up to",
// "Log written up to", "Log flushed up to", "Added dirty pages up to",
// "Pages flushed up to", "Last checkpoint at", each followed by spaces and a decimal.
const MYSQL8 = `
=====================================
2026-12-01 21:10:03 140012345 INNODB MONITOR OUTPUT
=====================================
---
LOG
---
Log sequence number          18446744073709551000
Log buffer assigned up to    18446744073709551000
Log buffer completed up to   18446744073709551000
Log written up to            18446744073709551000
Log flushed up to            18446744073709551000
Added dirty pages up to      18446744073709551000
Pages flushed up to          18446744073709500000
Last checkpoint at           18446744073709500000
Log minimum file id is       5
Log maximum file id is       6
31 log i/o's done, 0.00 log i/o's/second
----------------------
BUFFER POOL AND MEMORY
`;

// MySQL 5.7 / MariaDB: one space between words and the number.
const MYSQL57 = `---
LOG
---
Log sequence number 2539301
Log flushed up to   2539301
Pages flushed up to 2539301
Last checkpoint at  2539292
0 pending log flushes, 0 pending chkp writes
`;

Deno.test("parseInnodbStatusLsns: MySQL 8 layout, 64-bit values", () => {
  assert.deepEqual(parseInnodbStatusLsns(MYSQL8), {
    current: 18446744073709551000n,
    checkpoint: 18446744073709500000n,
  });
});

Deno.test("parseInnodbStatusLsns: MySQL 5.7 layout", () => {
  assert.deepEqual(parseInnodbStatusLsns(MYSQL57), { current: 2539301n, checkpoint: 2539292n });
});

Deno.test("parseInnodbStatusLsns: missing lines are a ServerError", () => {
  assert.throws(() => parseInnodbStatusLsns("LOG\n---\n"), ServerError);
  assert.throws(
    () => parseInnodbStatusLsns(MYSQL57.replace(/Last checkpoint at.*\n/, "")),
    /Last checkpoint at/,
  );
});
