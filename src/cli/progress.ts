/**
 * A progress bar for long loops (tokenizing, training steps, evaluation).
 *
 * On a terminal it redraws one line in place with `\r`, at most ~10 times a second:
 *   `train [=========>          ] 45% 450/1000 ex  1234 ex/s  ETA 0:03  loss=0.4231`
 * Elsewhere (CI logs, files) it prints a plain line each time another 10% is reached, and at
 * the end; never `\r` nor ANSI codes. `quiet` prints nothing. Output goes to stderr by default,
 * so stdout stays clean for results.
 *
 * Log lines on a terminal go through writeLine: it blanks the bar being drawn on that stream, writes
 * the line, and draws the bar again below it, so a line never runs into a bar
 * (`...loss=0.6938step 34 (epoch 1): ...`).
 */

export interface ProgressStream {
  write(s: string): boolean;
  isTTY?: boolean;
  columns?: number;
}

export interface ProgressOptions {
  label: string;
  total: number;
  /** Unit of the items counted, e.g. "ex" or "step" (default "it"). */
  unit?: string;
  stream?: NodeJS.WriteStream | ProgressStream;
  quiet?: boolean;
  /** Clock in milliseconds (for tests); default performance.now. */
  now?: () => number;
}

export type ProgressInfo = Record<string, string | number>;

const BAR_WIDTH = 20;
const REDRAW_MS = 100;

/** Seconds as m:ss, or h:mm:ss from an hour up. */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return "?";
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, "0");
  return h > 0 ? `${h}:${String(m).padStart(2, "0")}:${ss}` : `${m}:${ss}`;
}

function formatRate(rate: number): string {
  if (!Number.isFinite(rate) || rate <= 0) return "?";
  if (rate >= 100) return String(Math.round(rate));
  if (rate >= 10) return rate.toFixed(1);
  return rate.toFixed(2);
}

function formatValue(v: string | number): string {
  if (typeof v === "string") return v;
  if (Number.isInteger(v) || !Number.isFinite(v)) return String(v);
  const a = Math.abs(v);
  return a !== 0 && a < 1e-3 ? v.toExponential(2) : v.toFixed(4);
}

/** The bar each terminal stream shows in place right now (the latest drawn, until it is done). */
const liveBars = new Map<ProgressStream, Progress>();

/**
 * Write one whole line to a stream (default stderr) that may be showing a progress bar: the bar is
 * blanked first and redrawn below the line. Elsewhere (not a terminal) just the line.
 */
export function writeLine(line: string, stream: ProgressStream = process.stderr): void {
  const bar = liveBars.get(stream);
  bar?.clear();
  stream.write(line.endsWith("\n") ? line : `${line}\n`);
  bar?.redraw();
}

/** Blank the bar a stream shows and let it go (before an error ends the command: no bar below it). */
export function dropLiveBar(stream: ProgressStream = process.stderr): void {
  liveBars.get(stream)?.clear();
  liveBars.delete(stream);
}

export class Progress {
  private readonly label: string;
  private readonly total: number;
  private readonly unit: string;
  private readonly stream: ProgressStream;
  private readonly tty: boolean;
  private readonly quiet: boolean;
  private readonly now: () => number;
  private readonly start: number;
  private count = 0;
  private info: ProgressInfo = {};
  private finished = false;
  /** TTY: when the line was last drawn, and its length (to blank leftovers). */
  private lastDraw = -Infinity;
  private lastLength = 0;
  /** Plain mode: the last 10% step printed, and the count it was printed at. */
  private lastDecile = 0;
  private lastPrintedCount = -1;

  constructor(o: ProgressOptions) {
    this.label = o.label;
    this.total = Math.max(0, Number.isFinite(o.total) ? o.total : 0);
    this.unit = o.unit ?? "it";
    this.stream = o.stream ?? process.stderr;
    this.tty = this.stream.isTTY === true;
    this.quiet = o.quiet === true;
    this.now = o.now ?? (() => performance.now());
    this.start = this.now();
  }

  /** Count n more items (default 1); info fields (e.g. loss) are kept and shown until replaced. */
  tick(n = 1, info?: ProgressInfo): void {
    if (this.finished) return;
    this.count += n;
    if (info) Object.assign(this.info, info);
    if (this.quiet) return;
    const t = this.now();
    if (this.tty) {
      if (t - this.lastDraw >= REDRAW_MS) this.draw(t);
    } else {
      const decile = this.decile();
      if (decile > this.lastDecile) {
        this.lastDecile = decile;
        this.printLine(this.line(t, false));
      }
    }
  }

  /** Finish: draw the final state (with elapsed time instead of ETA) and end the line. Idempotent. */
  done(info?: ProgressInfo): void {
    if (this.finished) return;
    this.finished = true;
    if (info) Object.assign(this.info, info);
    if (this.quiet) return;
    const t = this.now();
    if (this.tty) {
      this.draw(t, true);
      this.stream.write("\n");
      if (liveBars.get(this.stream) === this) liveBars.delete(this.stream);
    } else if (info || this.lastPrintedCount !== this.count) {
      this.printLine(this.line(t, true));
    }
  }

  private decile(): number {
    if (this.total <= 0) return 0;
    return Math.min(10, Math.floor((this.count / this.total) * 10 + 1e-9));
  }

  private printLine(s: string): void {
    this.lastPrintedCount = this.count;
    this.stream.write(s + "\n");
  }

  /** Blank the bar's line and go to its start (for a log line to take it). */
  clear(): void {
    if (!this.tty || this.quiet || this.lastLength === 0) return;
    this.stream.write("\r" + " ".repeat(this.lastLength) + "\r");
    this.lastLength = 0;
  }

  /** Draw the bar again (after a log line), unless it is done. */
  redraw(): void {
    if (this.tty && !this.quiet && !this.finished) this.draw(this.now());
  }

  private draw(t: number, final = false): void {
    this.lastDraw = t;
    if (!final) liveBars.set(this.stream, this);
    let s = this.line(t, final, true);
    const cols = this.stream.columns;
    if (typeof cols === "number" && cols > 1 && s.length > cols - 1) s = s.slice(0, cols - 1);
    const pad = Math.max(0, this.lastLength - s.length);
    this.lastLength = s.length;
    this.stream.write("\r" + s + " ".repeat(pad));
  }

  private line(t: number, final: boolean, bar = false): string {
    const elapsed = Math.max(0, (t - this.start) / 1000);
    const frac = this.total > 0 ? Math.min(1, this.count / this.total) : final ? 1 : 0;
    const pct = Math.floor(frac * 100);
    const rate = elapsed > 0 ? this.count / elapsed : NaN;
    const parts: string[] = [this.label];
    if (bar) parts.push(this.bar(frac));
    parts.push(`${pct}% ${this.count}/${this.total} ${this.unit}`);
    let s = parts.join(" ");
    s += `  ${formatRate(rate)} ${this.unit}/s`;
    if (final) {
      s += `  in ${formatDuration(elapsed)}`;
    } else {
      const remaining = Math.max(0, this.total - this.count);
      s += `  ETA ${remaining === 0 ? "0:00" : rate > 0 ? formatDuration(remaining / rate) : "?"}`;
    }
    const fields = Object.entries(this.info).map(([k, v]) => `${k}=${formatValue(v)}`);
    if (fields.length) s += "  " + fields.join("  ");
    return s;
  }

  private bar(frac: number): string {
    const filled = Math.floor(frac * BAR_WIDTH);
    if (filled >= BAR_WIDTH) return `[${"=".repeat(BAR_WIDTH)}]`;
    return `[${"=".repeat(filled)}>${" ".repeat(BAR_WIDTH - filled - 1)}]`;
  }
}
