/** Run by test/temp-cleanup.test.ts in its own process (vite-node): makes temporary folders, then ends as asked. */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { tempDir } from "./fixtures.js";

for (const prefix of ["bertune-test-", "bertune-probe-", "bertune-probe-"]) {
  const dir = tempDir(prefix);
  writeFileSync(join(dir, "file.txt"), "some output\n");
}
const how = process.argv[2];
if (how === "throw") throw new Error("a test file that crashes still cleans up");
if (how === "exit-1") process.exit(1);
