/**
 * `deno task demo`: ibvault's main job end to end on a throwaway MariaDB.
 * Start a server, create tables with awkward names (`àbc` in `weird db`), stop
 * it, and validate every tablespace of its data directory offline.
 */
import { startServer } from "./throwaway_server.ts";
import { main } from "../cli.ts";

function step(text: string) {
  console.log(`\n=== ${text}`);
}

step("starting a throwaway MariaDB");
const server = await startServer();
let datadir = server.datadir;
try {
  console.log(`datadir ${server.datadir}, socket ${server.socket}, port ${server.port}`);
  step("creating tables, one named àbc in a database named `weird db`");
  await server.query("CREATE DATABASE `weird db` CHARACTER SET utf8mb4");
  await server.query("CREATE DATABASE db CHARACTER SET utf8mb4");
  await server.query(
    "CREATE TABLE `weird db`.`àbc` (id INT PRIMARY KEY, note VARCHAR(200)) ENGINE=InnoDB",
  );
  await server.query("CREATE TABLE db.`à123` (id INT PRIMARY KEY, v BLOB) ENGINE=InnoDB");
  await server.query(
    "CREATE TABLE db.`déf` (id INT PRIMARY KEY, v TEXT) ENGINE=InnoDB ROW_FORMAT=COMPRESSED KEY_BLOCK_SIZE=8",
  );
  for (let i = 0; i < 20; i++) {
    const rows = Array.from({ length: 500 }, (_, j) => `(${i * 500 + j}, REPEAT('x', 150))`);
    await server.query(`INSERT INTO \`weird db\`.\`àbc\` VALUES ${rows.join(",")}`);
    await server.query(`INSERT INTO db.\`à123\` VALUES ${rows.join(",")}`);
    await server.query(`INSERT INTO db.\`déf\` VALUES ${rows.join(",")}`);
  }
  step("stopping the server (keeping its data directory)");
  await server.stop({ keepDatadir: true });
  datadir = server.datadir;
  step(`ibvault validate --datadir=${datadir}`);
  const code = await main(["validate", `--datadir=${datadir}`, "--verbose"]);
  console.log(`\nexit code ${code}`);
  if (code !== 0) Deno.exit(code);
} finally {
  await server.stop().catch(() => {});
  await Deno.remove(datadir, { recursive: true }).catch(() => {});
}
