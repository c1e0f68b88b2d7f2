/** A test file run by test/temp-cleanup.test.ts in a child vitest (test/helpers/probe.vitest.config.ts): it makes temporary folders and leaves them to tempDir's cleanup. */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { tempDir } from "./fixtures.js";

describe("a test file with temporary folders", () => {
  const work = tempDir("bertune-probe-");
  writeFileSync(join(work, "made-while-collecting.txt"), "x\n");
  it("makes more inside a test", () => {
    const dir = tempDir();
    writeFileSync(join(dir, "file.txt"), "x\n");
    expect(dir).toContain("bertune-test-");
  });
});
