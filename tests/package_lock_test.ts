import assert from "node:assert/strict";

// Item 24 of issue 11: `npm ci` on a fresh clone must leave no local changes, so the
// lockfile must hold every optional per-platform package of every locked package
// (deno and bun fetch their binary from one), not only the ones of this machine.
Deno.test("package-lock.json: every optional dependency of a locked package is locked", async () => {
  const lock = JSON.parse(await Deno.readTextFile("package-lock.json"));
  const packages: Record<
    string,
    { version?: string; optionalDependencies?: Record<string, string> }
  > = lock.packages;
  const missing: string[] = [];
  let checked = 0;
  for (const [path, pkg] of Object.entries(packages)) {
    for (const [dep, range] of Object.entries(pkg.optionalDependencies ?? {})) {
      checked++;
      const locked = packages[`node_modules/${dep}`];
      if (!locked) missing.push(`${dep}@${range} (optional dependency of ${path || "the root"})`);
      else if (/^\d/.test(range)) assert.equal(locked.version, range, dep);
    }
  }
  assert.ok(checked >= 18, `only ${checked} optional dependencies seen: deno and bun have 18`);
  assert.deepEqual(missing, []);
});

Deno.test("package-lock.json agrees with package.json; bootstrap installs with npm ci", async () => {
  const lock = JSON.parse(await Deno.readTextFile("package-lock.json"));
  const pkg = JSON.parse(await Deno.readTextFile("package.json"));
  assert.deepEqual(lock.packages[""].dependencies, pkg.dependencies);
  assert.deepEqual(lock.packages[""].devDependencies, pkg.devDependencies);
  const bootstrap = await Deno.readTextFile("scripts/bootstrap");
  assert.match(bootstrap, /^\s*npm ci\b/m);
  assert.doesNotMatch(bootstrap, /^\s*npm install\b/m);
});
