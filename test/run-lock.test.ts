/** The run folder's training lock (src/run/lock.ts): exclusive, names its owner, stale locks taken over by exactly one. */
import { spawn } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { RUN_LOCK_FILE, lockRunFolder, ownerAlive } from "../src/run/lock.js";
import { errorOf } from "./helpers/errors.js";
import { ROOT, tempDir } from "./helpers/fixtures.js";

describe("lockRunFolder", () => {
  it("is exclusive, names its owner, and release removes only its own lock", async () => {
    const dir = join(tempDir(), "run");
    const lock = lockRunFolder(dir, { command: "bertune train x" });
    const owner = JSON.parse(readFileSync(join(dir, RUN_LOCK_FILE), "utf8"));
    expect(owner).toMatchObject({ pid: process.pid, host: hostname(), command: "bertune train x" });
    const e = await errorOf(() => lockRunFolder(dir));
    expect(e.message).toBe(`${dir} is in use by another training: process ${process.pid} on ${hostname()}, started ${owner.started} (bertune train x).`);
    expect(e.hint).toContain(join(dir, RUN_LOCK_FILE));
    lock.release();
    expect(existsSync(join(dir, RUN_LOCK_FILE))).toBe(false);
    expect(existsSync(dir)).toBe(false); // made for the lock alone
    const again = lockRunFolder(dir);
    // Someone replaced the lock (a takeover): releasing ours leaves theirs.
    writeFileSync(join(dir, RUN_LOCK_FILE), JSON.stringify({ ...again.owner, nonce: "theirs" }));
    again.release();
    expect(existsSync(join(dir, RUN_LOCK_FILE))).toBe(true);
  });

  it("tells a live owner from a dead or reused pid; another host's owner counts as alive", () => {
    const base = { started: "x", nonce: "n" };
    expect(ownerAlive({ ...base, pid: process.pid, host: hostname() })).toBe(true);
    expect(ownerAlive({ ...base, pid: 2 ** 30, host: hostname() })).toBe(false);
    expect(ownerAlive({ ...base, pid: 2 ** 30, host: "elsewhere" })).toBe(true);
    if (existsSync("/proc/self/stat")) expect(ownerAlive({ ...base, pid: process.pid, host: hostname(), pid_start: "1" })).toBe(false);
  });

  it("exactly one of eight processes racing for a stale lock gets it", async () => {
    const dir = tempDir();
    writeFileSync(join(dir, RUN_LOCK_FILE), JSON.stringify({ pid: 2 ** 30, host: hostname(), started: "2020-01-01T00:00:00Z", nonce: "stale" }));
    const at = Date.now() + 1500;
    const script = `
      const { lockRunFolder } = await import(${JSON.stringify(join(ROOT, "dist/run/lock.js"))});
      while (Date.now() < ${at}) {}
      try { lockRunFolder(${JSON.stringify(dir)}); console.log("got"); await new Promise((r) => setTimeout(r, 1500)); }
      catch (e) { console.log(e.constructor.name === "BertuneError" && /in use by another training/.test(e.message) ? "busy" : "other " + e.message); }`;
    const outcomes = await Promise.all(
      Array.from({ length: 8 }, () => new Promise<string>((resolve) => {
        const child = spawn(process.execPath, ["--input-type=module", "-e", script]);
        let out = "";
        child.stdout.on("data", (d) => (out += d));
        child.stderr.on("data", (d) => (out += d));
        child.on("close", () => resolve(out.trim()));
      })),
    );
    expect(outcomes.sort()).toEqual(["busy", "busy", "busy", "busy", "busy", "busy", "busy", "got"]);
    expect(existsSync(join(dir, RUN_LOCK_FILE))).toBe(false);
  });
});
