/**
 * One training at a time per run folder: `.bertune-train.lock` in the folder, created atomically (a
 * complete file hard-linked into place, which fails if one is there, as O_CREAT|O_EXCL does), holding
 * who owns it. A second run is refused, naming the owner (pid, host, start time). A lock whose owner
 * is gone (same host, pid not alive or now another process) is stale and is taken over safely. The
 * lock goes when the owner releases it, exits (also after an uncaught error) or is ended by SIGTERM
 * or SIGHUP; a folder made for it alone goes too. SIGKILL leaves a stale lock, which the next run takes over.
 */
import { randomBytes } from "node:crypto";
import { closeSync, existsSync, fsyncSync, linkSync, mkdirSync, openSync, readFileSync, renameSync, rmdirSync, rmSync, writeSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { BertuneError } from "../errors.js";

export const RUN_LOCK_FILE = ".bertune-train.lock";

/** What the lock file holds. */
export interface LockOwner {
  pid: number;
  host: string;
  /** When the lock was taken (ISO 8601). */
  started: string;
  /** The process's start time in clock ticks since boot (Linux /proc), to tell a reused pid. */
  pid_start?: string;
  /** The command line, for the message a second run gets. */
  command?: string;
  /** Unique per lock: release removes only its own lock. */
  nonce: string;
}

export interface RunLock {
  readonly path: string;
  readonly owner: LockOwner;
  /** A stale lock this one replaced, if any. */
  readonly tookOver?: LockOwner;
  /** Remove the lock (only if it is still this one). Idempotent. */
  release(): void;
}

export interface LockOptions {
  /** Shown to a second run (default: process.argv without the node binary). */
  command?: string;
  /** Signals on which to release before the process ends (default SIGTERM, SIGHUP; SIGINT is the caller's). */
  signals?: NodeJS.Signals[];
}

/** Field 22 of /proc/<pid>/stat (start time in ticks since boot), or undefined off Linux. */
function processStart(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // The command name (field 2) is in parentheses and may hold spaces: count fields after its ")".
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19];
  } catch {
    return undefined;
  }
}

/** Whether the process that wrote `owner` is still running. Another host's owner counts as alive. */
export function ownerAlive(owner: LockOwner): boolean {
  if (owner.host !== hostname()) return true;
  if (!Number.isSafeInteger(owner.pid) || owner.pid <= 0) return false;
  try {
    process.kill(owner.pid, 0);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "EPERM") return false; // ESRCH: no such process
  }
  // Alive, but is it the same process? A pid can be reused after the owner died.
  const now = processStart(owner.pid);
  return !(owner.pid_start !== undefined && now !== undefined && now !== owner.pid_start);
}

function readOwner(path: string): LockOwner | undefined {
  try {
    const o = JSON.parse(readFileSync(path, "utf8")) as LockOwner;
    return o && typeof o === "object" && typeof o.pid === "number" && typeof o.host === "string" ? o : undefined;
  } catch {
    return undefined;
  }
}

function writeNew(path: string, content: string): void {
  const fd = openSync(path, "wx");
  try {
    writeSync(fd, content);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Put `content` at `path` only if nothing is there; false if something is. */
function createExclusive(path: string, content: string): boolean {
  const tmp = `${path}.new-${process.pid}-${randomBytes(4).toString("hex")}`;
  writeNew(tmp, content);
  try {
    linkSync(tmp, path);
    return true;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "EEXIST") return false;
    if (code !== "EPERM" && code !== "ENOTSUP" && code !== "EOPNOTSUPP" && code !== "ENOSYS") throw e;
    // A file system without hard links: exclusive create (a reader may briefly see it empty).
    try {
      writeNew(path, content);
      return true;
    } catch (e2) {
      if ((e2 as NodeJS.ErrnoException).code === "EEXIST") return false;
      throw e2;
    }
  } finally {
    rmSync(tmp, { force: true });
  }
}

function describeOwner(o: LockOwner): string {
  return `process ${o.pid} on ${o.host}, started ${o.started}${o.command ? ` (${o.command})` : ""}`;
}

/**
 * Take the run folder's training lock (creating the folder), or throw a BertuneError naming the run
 * that holds it. A stale lock (its process is gone) is replaced.
 */
export function lockRunFolder(dir: string, o: LockOptions = {}): RunLock {
  // A folder made only for the lock goes with it if nothing else was written (a run that failed early).
  const created = !existsSync(dir);
  mkdirSync(dir, { recursive: true });
  const path = join(dir, RUN_LOCK_FILE);
  const owner: LockOwner = {
    pid: process.pid,
    host: hostname(),
    started: new Date().toISOString(),
    pid_start: processStart(process.pid),
    command: o.command ?? ["bertune", ...process.argv.slice(2)].join(" "),
    nonce: randomBytes(8).toString("hex"),
  };
  const content = JSON.stringify(owner, null, 2) + "\n";
  let tookOver: LockOwner | undefined;
  const sleep = (ms: number) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
  for (let attempt = 0; ; attempt++) {
    if (attempt >= 50) throw new BertuneError(`could not take the lock ${path}`, `if no training uses ${dir}, delete that file`);
    let took: boolean;
    try {
      took = createExclusive(path, content);
    } catch (e) {
      // A run that made the folder for its lock alone removed it on release, just now: make it again.
      if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e;
      mkdirSync(dir, { recursive: true });
      continue;
    }
    if (took) break;
    const held = readOwner(path);
    if (held === undefined) {
      if (!existsSync(path)) continue; // released meanwhile
      // Unreadable: being written (a file system without hard links) or damaged. Wait, then count it stale.
      if (attempt < 10) {
        sleep(25);
        continue;
      }
    } else if (ownerAlive(held)) {
      throw new BertuneError(
        `${dir} is in use by another training: ${describeOwner(held)}.`,
        `wait for it to finish, or train into another --output; if that process is surely gone, delete ${path}`,
      );
    }
    // Stale: move it aside (atomic), then check that what was moved is the lock judged above and not a
    // fresh one that another process put there in between; put such a one back.
    const aside = `${path}.stale-${process.pid}-${randomBytes(4).toString("hex")}`;
    try {
      renameSync(path, aside);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "ENOENT") continue; // someone else cleared it
      throw e;
    }
    const moved = readOwner(aside);
    if (moved !== undefined && moved.nonce !== held?.nonce) {
      try {
        linkSync(aside, path);
      } catch {
        // Somebody holds it by now: the next round reports them.
      }
    } else if (held !== undefined) {
      tookOver = held;
    }
    rmSync(aside, { force: true });
  }

  let released = false;
  const signals = o.signals ?? ["SIGTERM", "SIGHUP"];
  const onSignal = (signal: NodeJS.Signals) => {
    release();
    // Without other listeners, end the process as the signal would have.
    if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
  };
  const release = () => {
    if (released) return;
    released = true;
    process.removeListener("exit", release);
    for (const s of signals) process.removeListener(s, onSignal);
    if (readOwner(path)?.nonce !== owner.nonce) return;
    rmSync(path, { force: true });
    if (created) {
      try {
        rmdirSync(dir); // only if empty
      } catch {
        // it holds the run
      }
    }
  };
  process.on("exit", release);
  for (const s of signals) process.once(s, onSignal);
  return { path, owner, tookOver, release };
}
