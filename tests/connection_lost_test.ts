/**
 * A lost connection is named as one (issue 11 item 21): after the server kills
 * the session, the next query and every one after it (mysql2 answers those with
 * "Can't add new command when connection is in closed state") are a
 * ConnectionLost saying the connection to the server was lost and what to do.
 */
import assert from "node:assert/strict";
import { ConnectionLost } from "../lib/errors.ts";
import { connect } from "../lib/server/connection.ts";
import { queryRows } from "../lib/server/facts.ts";
import { startServer } from "../scripts/throwaway_server.ts";

Deno.test("a killed session: every later query says the connection was lost, never the driver's closed state", async () => {
  await using srv = await startServer();
  const conn = await connect({ socket: srv.socket, user: "root" });
  try {
    const [{ id }] = await queryRows<{ id: number }>(conn, "SELECT CONNECTION_ID() AS id");
    await srv.query(`KILL CONNECTION ${Number(id)}`);
    for (let i = 0; i < 3; i++) {
      await assert.rejects(() => queryRows(conn, "SELECT 1"), (err: Error) => {
        assert.ok(err instanceof ConnectionLost, `${err.name}: ${err.message}`);
        assert.match(err.message, /^the connection to the server was lost/);
        assert.match(err.message, /check the server, then run again/);
        assert.doesNotMatch(err.message, /closed state|Can't add new command/);
        console.log(`  query ${i + 1}: ${err.message}`);
        return true;
      });
    }
  } finally {
    conn.destroy();
  }
});
