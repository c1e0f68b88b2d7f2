import { defineConfig } from "vitest/config";

/** Only for test/temp-cleanup.test.ts: runs the probe test file as `npm test` runs any test file. */
export default defineConfig({
  test: {
    root: new URL("../..", import.meta.url).pathname,
    include: ["test/helpers/tempdir.probe.ts"],
    pool: "forks",
  },
});
