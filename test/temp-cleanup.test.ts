/** Tests leave no /tmp/bertune-* folders behind: tempDir's folders go when the test file's process exits. */
import { spawnSync } from "node:child_process";
import { mkdirSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ROOT, tempDir } from "./helpers/fixtures.js";

describe("tempDir cleans up after itself", () => {
  it("a test file run by vitest (forked worker, ended by a signal) leaves no bertune-* folder", () => {
    const tmp = join(tempDir("bertune-tmp-root-"), "tmp");
    mkdirSync(tmp);
    const r = spawnSync(process.execPath, [join(ROOT, "node_modules/vitest/vitest.mjs"), "run", "--config", join(ROOT, "test/helpers/probe.vitest.config.ts")], {
      cwd: ROOT,
      env: { ...process.env, TMPDIR: tmp, BERTUNE_KEEP_TEMP: "", VITEST: "", VITEST_WORKER_ID: "", VITEST_POOL_ID: "" },
      encoding: "utf8",
    });
    expect(r.status, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/1 passed/);
    expect(readdirSync(tmp).filter((n) => n.startsWith("bertune-"))).toEqual([]);
  });

  it.each([["normal end"], ["throw"], ["exit-1"]])("removes its folders when the process ends (%s)", (how) => {
    const tmp = join(tempDir("bertune-tmp-root-"), "tmp");
    mkdirSync(tmp);
    const r = spawnSync(process.execPath, [join(ROOT, "node_modules/vite-node/vite-node.mjs"), join(ROOT, "test/helpers/tempdir-probe.ts"), how], {
      cwd: ROOT,
      env: { ...process.env, TMPDIR: tmp, BERTUNE_KEEP_TEMP: "", VITEST: "" },
      encoding: "utf8",
    });
    expect(r.status, r.stderr).toBe(how === "normal end" ? 0 : 1);
    expect(readdirSync(tmp).filter((n) => n.startsWith("bertune-"))).toEqual([]);
  });

  it("keeps them with BERTUNE_KEEP_TEMP=1, for a post-mortem", () => {
    const tmp = join(tempDir("bertune-tmp-root-"), "tmp");
    mkdirSync(tmp);
    spawnSync(process.execPath, [join(ROOT, "node_modules/vite-node/vite-node.mjs"), join(ROOT, "test/helpers/tempdir-probe.ts")], {
      cwd: ROOT,
      env: { ...process.env, TMPDIR: tmp, BERTUNE_KEEP_TEMP: "1", VITEST: "" },
    });
    expect(readdirSync(tmp).filter((n) => n.startsWith("bertune-"))).toHaveLength(3);
  });
});
