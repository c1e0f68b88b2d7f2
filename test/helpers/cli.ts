import { spawn } from "node:child_process";
import { join } from "node:path";
import { ROOT } from "./fixtures.js";

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Run the built CLI (dist/, built by `npm test` before vitest) as a user would. */
export function runCli(args: string[], env: Record<string, string> = {}, stdin?: string): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(ROOT, "dist/cli/main.js"), ...args], {
      cwd: ROOT,
      env: { ...process.env, HF_HUB_OFFLINE: "", HF_TOKEN: "", ...env },
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(stdin ?? "");
  });
}

/**
 * Run the built CLI with its stdout on a real pipe whose read end this process closes, as
 * `bertune ... | head -1` does: at once ("start"), or after the first chunk ("first-chunk").
 */
export function runCliClosingStdout(args: string[], env: Record<string, string> = {}, when: "start" | "first-chunk" = "first-chunk"): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(ROOT, "dist/cli/main.js"), ...args], {
      cwd: ROOT,
      env: { ...process.env, HF_HUB_OFFLINE: "", HF_TOKEN: "", ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    if (when === "start") child.stdout.destroy();
    else child.stdout.once("data", (d) => {
      stdout += d;
      child.stdout.destroy();
    });
    child.stderr.on("data", (d) => (stderr += d));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}
