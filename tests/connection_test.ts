import assert from "node:assert/strict";
import { ServerError } from "../lib/errors.ts";
import { connect, connectError, resolveEndpoint } from "../lib/server/connection.ts";
import { freePort, startServer } from "../scripts/throwaway_server.ts";

Deno.test("resolveEndpoint: socket wins, host/port mean TCP", async () => {
  assert.deepEqual(await resolveEndpoint({ socket: "/s", host: "h", port: 1 }), { socket: "/s" });
  assert.deepEqual(await resolveEndpoint({ host: "h" }), { host: "h", port: 3306 });
  assert.deepEqual(await resolveEndpoint({ port: 3307 }), { host: "127.0.0.1", port: 3307 });
});

Deno.test("connectError: one line, no password", () => {
  const err = connectError(
    Object.assign(new Error("Access denied for user 'u'@'localhost' (using password: YES)"), {
      code: "ER_ACCESS_DENIED_ERROR",
    }),
    "h:1",
    "u",
    "s3cret",
  );
  assert.equal(
    err.message,
    "cannot connect to h:1: access denied for user 'u' (check --user/--password or the option file)",
  );
  const other = connectError(new Error("weird s3cret thing\nat line"), "h:1", "u", "s3cret");
  assert.equal(other.message, "cannot connect to h:1: weird *** thing");
});

Deno.test("connect: against the throwaway server", async (t) => {
  await using srv = await startServer();

  await t.step("by socket (socket wins over host and port)", async () => {
    const conn = await connect({ socket: srv.socket, user: "root", host: "nowhere", port: 1 });
    try {
      const [rows] = await conn.query("SELECT 'àbc😀' AS s, @@character_set_client AS cs");
      const row = (rows as { s: string; cs: string }[])[0];
      assert.equal(row.s, "àbc😀");
      assert.equal(row.cs, "utf8mb4");
    } finally {
      await conn.end();
    }
  });

  await t.step("by TCP with user and password", async () => {
    const conn = await connect({
      host: "127.0.0.1",
      port: srv.port,
      user: srv.user,
      password: srv.password,
    });
    try {
      const [rows] = await conn.query("SELECT CURRENT_USER() AS u");
      assert.match((rows as { u: string }[])[0].u, new RegExp(`^${srv.user}@`));
    } finally {
      await conn.end();
    }
  });

  await t.step("wrong password: ServerError without the password or a stack", async () => {
    const password = "Wr0ng-Pa55word";
    await assert.rejects(
      () => connect({ host: "127.0.0.1", port: srv.port, user: srv.user, password }),
      (err: unknown) => {
        assert.ok(err instanceof ServerError);
        assert.equal(
          err.message,
          `cannot connect to 127.0.0.1:${srv.port}: access denied for user '${srv.user}' ` +
            "(check --user/--password or the option file)",
        );
        assert.ok(!err.message.includes(password));
        assert.ok(!err.message.includes("\n"));
        assert.ok(!/\bat \S+:\d+/.test(err.message));
        return true;
      },
    );
  });

  await t.step("unknown user over the socket", async () => {
    await assert.rejects(
      () => connect({ socket: srv.socket, user: "nobody", password: "x" }),
      /cannot connect to socket .*: access denied for user 'nobody'/,
    );
  });
});

Deno.test("connect: nothing listening", async () => {
  const port = await freePort();
  await assert.rejects(
    () => connect({ host: "127.0.0.1", port, user: "u", password: "p" }),
    (err: unknown) => {
      assert.ok(err instanceof ServerError);
      assert.equal(err.message, `cannot connect to 127.0.0.1:${port}: no server is listening`);
      return true;
    },
  );
  await assert.rejects(
    () => connect({ socket: "/nonexistent/mysqld.sock", user: "u" }),
    /cannot connect to socket \/nonexistent\/mysqld\.sock: no server is listening/,
  );
});
