import assert from "node:assert/strict";
import { UsageError } from "../lib/errors.ts";
import { readOptionFiles } from "../lib/server/option_file.ts";

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "ibvault-optfile-" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("option file: groups, values, quotes, escapes, comments, bare keys", async () => {
  await withDir(async (dir) => {
    const file = `${dir}/my.cnf`;
    await Deno.writeTextFile(
      file,
      [
        "# a comment",
        "; another",
        "",
        "[mysqld]",
        "port=9999",
        "datadir=/nope",
        "[client]",
        "user = alice",
        'password = "p#ss w\\"ord"',
        "host=db.example # trailing comment",
        "socket='/tmp/my sock'",
        "default_character_set=utf8mb4",
        "loose-compress",
        "tabbed = a\\tb\\sc\\\\d\\qe",
        "empty=",
        "  [ibvault]  ",
        "user=bob",
        "key-file = /k",
        "loose_threads = 4",
        "[CLIENT]",
        "port=3307",
      ].join("\n"),
    );
    const opts = readOptionFiles({ defaultsFile: file });
    assert.deepEqual(opts, {
      user: "bob", // [ibvault] over [client]
      password: 'p#ss w"ord',
      host: "db.example",
      socket: "/tmp/my sock",
      "default-character-set": "utf8mb4",
      compress: true,
      tabbed: "a\tb c\\d\\qe",
      empty: "",
      "key-file": "/k",
      threads: "4",
      port: "3307", // group names ignore case
    });
  });
});

Deno.test("option file: [ibvault] wins over [client] whatever the order; later wins within a group", async () => {
  await withDir(async (dir) => {
    const file = `${dir}/my.cnf`;
    await Deno.writeTextFile(
      file,
      "[ibvault]\nuser=ib\nthreads=2\n[client]\nuser=cl\nhost=h1\n[client]\nhost=h2\n[ibvault]\nthreads=3\n",
    );
    assert.deepEqual(readOptionFiles({ defaultsFile: file }), {
      user: "ib",
      host: "h2",
      threads: "3",
    });
  });
});

Deno.test("option file: ~/.my.cnf and --defaults-extra-file, later file wins", async () => {
  await withDir(async (dir) => {
    await Deno.writeTextFile(`${dir}/.my.cnf`, "[client]\nuser=home\nhost=homehost\n");
    await Deno.writeTextFile(`${dir}/extra.cnf`, "[client]\nuser=extra\n");
    const base = readOptionFiles({ home: dir });
    assert.equal(base.user, "home");
    assert.equal(base.host, "homehost");
    const opts = readOptionFiles({ home: dir, defaultsExtraFile: `${dir}/extra.cnf` });
    assert.equal(opts.user, "extra");
    assert.equal(opts.host, "homehost");
    // --defaults-file replaces the search list (and the extra file), --no-defaults reads nothing
    const only = readOptionFiles({
      home: dir,
      defaultsFile: `${dir}/extra.cnf`,
      defaultsExtraFile: `${dir}/.my.cnf`,
    });
    assert.deepEqual(only, { user: "extra" });
    assert.deepEqual(readOptionFiles({ home: dir, noDefaults: true }), {});
  });
});

Deno.test("option file: a missing default ~/.my.cnf is skipped", async () => {
  await withDir((dir) => {
    const opts = readOptionFiles({ home: `${dir}/nobody` });
    assert.equal(typeof opts, "object");
    return Promise.resolve();
  });
});

Deno.test("option file: missing --defaults-file / --defaults-extra-file are usage errors naming them", async () => {
  assert.throws(
    () => readOptionFiles({ defaultsFile: "/nonexistent/ibvault.cnf" }),
    (err: unknown) => {
      assert.ok(err instanceof UsageError);
      assert.match(err.message, /--defaults-file=\/nonexistent\/ibvault\.cnf/);
      return true;
    },
  );
  await withDir((dir) => {
    assert.throws(
      () => readOptionFiles({ home: dir, defaultsExtraFile: `${dir}/none.cnf` }),
      /--defaults-extra-file=.*none\.cnf/,
    );
    return Promise.resolve();
  });
});

Deno.test("option file: !include and !includedir (only *.cnf, sorted)", async () => {
  await withDir(async (dir) => {
    await Deno.mkdir(`${dir}/conf.d`);
    await Deno.writeTextFile(`${dir}/conf.d/20-b.cnf`, "[client]\nuser=b\nport=2\n");
    await Deno.writeTextFile(`${dir}/conf.d/10-a.cnf`, "[client]\nuser=a\nhost=a\n");
    await Deno.writeTextFile(`${dir}/conf.d/30-c.txt`, "[client]\nuser=ignored\n");
    await Deno.writeTextFile(`${dir}/inc.cnf`, "[ibvault]\nthreads=8\n");
    await Deno.writeTextFile(
      `${dir}/my.cnf`,
      "[client]\nuser=main\n!includedir conf.d\n!include inc.cnf\n!includedir /nonexistent/dir\n[client]\nsocket=/s\n",
    );
    assert.deepEqual(readOptionFiles({ defaultsFile: `${dir}/my.cnf` }), {
      user: "b",
      host: "a",
      port: "2",
      socket: "/s",
      threads: "8",
    });
  });
});

Deno.test("option file: errors name the file and line", async () => {
  await withDir(async (dir) => {
    const cases: [string, RegExp][] = [
      ["user=x\n", /my\.cnf:1: option "user=x" before any \[group\]/],
      ["[client\nuser=x\n", /my\.cnf:1: bad group header/],
      ["[client]\n!include missing.cnf\n", /my\.cnf:2: !include .*missing\.cnf/],
      ["[client]\n!bogus x\n", /my\.cnf:2: unknown directive/],
      ["[client]\n= x\n", /my\.cnf:2: bad option line/],
    ];
    for (const [text, re] of cases) {
      await Deno.writeTextFile(`${dir}/my.cnf`, text);
      assert.throws(() => readOptionFiles({ defaultsFile: `${dir}/my.cnf` }), (err) => {
        assert.ok(err instanceof UsageError);
        assert.match(err.message, re);
        return true;
      });
    }
    await Deno.writeTextFile(`${dir}/loop.cnf`, "[client]\n!include loop.cnf\n");
    assert.throws(
      () => readOptionFiles({ defaultsFile: `${dir}/loop.cnf` }),
      /more than 10 deep/,
    );
  });
});

Deno.test("option file: unrelated groups are ignored, also odd names", async () => {
  await withDir(async (dir) => {
    await Deno.writeTextFile(
      `${dir}/my.cnf`,
      "[constructor]\nuser=x\n[__proto__]\nuser=y\n[mysqldump]\nuser=z\n",
    );
    assert.deepEqual(readOptionFiles({ defaultsFile: `${dir}/my.cnf` }), {});
  });
});
