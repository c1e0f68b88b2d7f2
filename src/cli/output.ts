/**
 * Terminal output helpers with no heavy imports, so that src/cli/main.ts can use them before any
 * command module (and tensorflow.js with it) loads.
 */

/**
 * Whether to colour what goes to a stream: only a terminal, and never when NO_COLOR is set to
 * anything (https://no-color.org); FORCE_COLOR (other than "0"/"false") turns it on elsewhere.
 */
export function colorEnabled(stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv = process.env): boolean {
  if (env.NO_COLOR) return false;
  if (env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== "0" && env.FORCE_COLOR !== "false") return true;
  return stream.isTTY === true && env.TERM !== "dumb";
}

export interface Colors {
  red(s: string): string;
  green(s: string): string;
  yellow(s: string): string;
  dim(s: string): string;
  bold(s: string): string;
}

const sgr = (open: number, close: number) => (s: string) => `\x1b[${open}m${s}\x1b[${close}m`;
const plain = (s: string) => s;

/** ANSI styles for a stream, or identity functions where colour is off. */
export function colors(stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv = process.env): Colors {
  if (!colorEnabled(stream, env)) return { red: plain, green: plain, yellow: plain, dim: plain, bold: plain };
  return { red: sgr(31, 39), green: sgr(32, 39), yellow: sgr(33, 39), dim: sgr(2, 22), bold: sgr(1, 22) };
}

/** Commander's own error output (usage errors, bad option values): `error:` red and `hint:` lines dim, as action() prints them. */
export function styleUsageError(text: string): string {
  const c = colors(process.stderr);
  return text
    .split("\n")
    .map((line) => (line.startsWith("error:") ? `${c.red(c.bold("error:"))}${line.slice(6)}` : line.startsWith("hint:") ? c.dim(line) : line))
    .join("\n");
}


/**
 * A reader that stops early (`bertune predict ... | head -1`) closes stdout: the next write fails
 * with EPIPE. That is the reader's choice, not an error: end the command quietly, keeping an exit
 * code already set (else 0). A closed stderr is ignored (the work goes on, unlogged). Once for
 * every command, in main.ts.
 */
export function handleClosedOutput(exit: (code: number) => void = (code) => process.exit(code)): void {
  const closed = (e: NodeJS.ErrnoException) => e.code === "EPIPE" || e.code === "ERR_STREAM_DESTROYED";
  process.stdout.on("error", (e: NodeJS.ErrnoException) => {
    if (!closed(e)) throw e;
    exit(typeof process.exitCode === "number" ? process.exitCode : 0);
  });
  process.stderr.on("error", (e: NodeJS.ErrnoException) => {
    if (!closed(e)) throw e;
  });
}
