import { afterEach, describe, expect, it, vi } from "vitest";
import { Progress, formatDuration, writeLine } from "../src/cli/progress.js";

function fakeStream(isTTY: boolean) {
  const writes: string[] = [];
  return {
    writes,
    stream: {
      isTTY,
      write(s: string): boolean {
        writes.push(s);
        return true;
      },
    },
    text: () => writes.join(""),
  };
}

function fakeClock(start = 0) {
  let t = start;
  return { now: () => t, set: (ms: number) => void (t = ms), advance: (ms: number) => void (t += ms) };
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe("Progress on a TTY", () => {
  it("draws one line with bar, percentage, counts, throughput, ETA and info", () => {
    const out = fakeStream(true);
    const clock = fakeClock(1000);
    const p = new Progress({ label: "train", total: 1000, unit: "ex", stream: out.stream, now: clock.now });
    clock.set(3000); // 2 s elapsed
    p.tick(450, { loss: 0.42312 });
    // 450 ex in 2 s = 225 ex/s; 550 left → 2.44 s → "0:02"
    expect(out.writes).toEqual(["\rtrain [=========>          ] 45% 450/1000 ex  225 ex/s  ETA 0:02  loss=0.4231"]);
  });

  it("redraws at most ten times a second, always with \\r and no newline until done", () => {
    const out = fakeStream(true);
    const clock = fakeClock();
    const p = new Progress({ label: "eval", total: 100, unit: "step", stream: out.stream, now: clock.now });
    for (let i = 0; i < 100; i++) {
      clock.advance(10); // 1 s in all, 100 ticks
      p.tick();
    }
    expect(out.writes.length).toBeGreaterThanOrEqual(9);
    expect(out.writes.length).toBeLessThanOrEqual(11);
    for (const w of out.writes) {
      expect(w.startsWith("\r")).toBe(true);
      expect(w).not.toContain("\n");
      expect(w).not.toContain("\x1b");
    }
    clock.set(2000);
    p.done({ acc: 0.9 });
    const last = out.writes.at(-2)!;
    expect(last).toMatch(/^\reval \[={20}\] 100% 100\/100 step {2}50\.0 step\/s {2}in 0:02 {2}acc=0\.9000/);
    expect(out.writes.at(-1)).toBe("\n");
    const n = out.writes.length;
    p.done();
    p.tick();
    expect(out.writes.length).toBe(n);
  });

  it("blanks leftovers of a longer previous line", () => {
    const out = fakeStream(true);
    const clock = fakeClock();
    const p = new Progress({ label: "x", total: 10, stream: out.stream, now: clock.now });
    clock.set(1000);
    p.tick(1, { note: "a long note here" });
    clock.set(2000);
    p.tick(1, { note: "s" });
    const [a, b] = out.writes;
    expect(b.length).toBeGreaterThanOrEqual(a.length);
    expect(b.endsWith(" ")).toBe(true);
  });

  it("formats small and large numbers in info fields", () => {
    const out = fakeStream(true);
    const clock = fakeClock();
    const p = new Progress({ label: "train", total: 10, unit: "step", stream: out.stream, now: clock.now });
    clock.set(500);
    p.tick(1, { loss: 1.5, lr: 0.00002, epoch: 2, split: "train" });
    expect(out.writes[0]).toContain("loss=1.5000  lr=2.00e-5  epoch=2  split=train");
    expect(out.writes[0]).toContain("2.00 step/s");
  });
});

describe("Progress on a plain stream (CI logs)", () => {
  it("prints a line per 10% and nothing more at done, without \\r or ANSI codes", () => {
    const out = fakeStream(false);
    const clock = fakeClock();
    const p = new Progress({ label: "tokenize", total: 1000, unit: "ex", stream: out.stream, now: clock.now });
    for (let i = 0; i < 1000; i++) {
      clock.advance(2);
      p.tick();
    }
    p.done();
    const lines = out.text().split("\n").filter(Boolean);
    expect(lines).toHaveLength(10);
    expect(out.text()).not.toContain("\r");
    expect(out.text()).not.toContain("\x1b");
    expect(lines[0]).toBe("tokenize 10% 100/1000 ex  500 ex/s  ETA 0:02");
    expect(lines[4]).toBe("tokenize 50% 500/1000 ex  500 ex/s  ETA 0:01");
    expect(lines[9]).toBe("tokenize 100% 1000/1000 ex  500 ex/s  ETA 0:00");
    expect(out.writes.every((w) => w.endsWith("\n"))).toBe(true);
  });

  it("prints a final line at done when it has news, and one line for a big jump", () => {
    const out = fakeStream(false);
    const clock = fakeClock();
    const p = new Progress({ label: "train", total: 20, unit: "step", stream: out.stream, now: clock.now });
    clock.set(1000);
    p.tick(1); // 5%: nothing
    expect(out.writes).toHaveLength(0);
    clock.set(2000);
    p.tick(6, { loss: 0.7 }); // 35%: one line
    expect(out.writes).toEqual(["train 35% 7/20 step  3.50 step/s  ETA 0:04  loss=0.7000\n"]);
    clock.set(3000);
    p.tick(1); // 40%
    clock.set(4000);
    p.done({ loss: 0.5 }); // stopped early: still a final line
    expect(out.writes).toHaveLength(3);
    expect(out.writes[2]).toBe("train 40% 8/20 step  2.00 step/s  in 0:04  loss=0.5000\n");
  });

  it("handles total 0", () => {
    const out = fakeStream(false);
    const p = new Progress({ label: "empty", total: 0, stream: out.stream, now: () => 0 });
    p.tick(0);
    p.done();
    expect(out.writes).toEqual(["empty 100% 0/0 it  ? it/s  in 0:00\n"]);
  });
});

describe("quiet and defaults", () => {
  it("prints nothing when quiet", () => {
    for (const tty of [true, false]) {
      const out = fakeStream(tty);
      const clock = fakeClock();
      const p = new Progress({ label: "q", total: 10, stream: out.stream, now: clock.now, quiet: true });
      for (let i = 0; i < 10; i++) {
        clock.advance(500);
        p.tick(1, { loss: 1 });
      }
      p.done({ loss: 0 });
      expect(out.writes).toEqual([]);
    }
  });

  it("writes to stderr by default", () => {
    const err = vi.spyOn(process.stderr, "write").mockImplementation(() => true);
    const std = vi.spyOn(process.stdout, "write");
    const p = new Progress({ label: "default-stream", total: 1 });
    p.tick();
    p.done();
    expect(err.mock.calls.some(([s]) => String(s).includes("default-stream"))).toBe(true);
    expect(std.mock.calls.some(([s]) => String(s).includes("default-stream"))).toBe(false);
  });

  it("formats durations", () => {
    expect(formatDuration(0)).toBe("0:00");
    expect(formatDuration(3.4)).toBe("0:03");
    expect(formatDuration(65)).toBe("1:05");
    expect(formatDuration(3725)).toBe("1:02:05");
    expect(formatDuration(Infinity)).toBe("?");
  });
});

/** What a terminal shows after these writes: \r goes back to column 0, \n starts a line, text overwrites. */
function screen(text: string): string[] {
  const lines = [""];
  let col = 0;
  for (const ch of text) {
    if (ch === "\r") col = 0;
    else if (ch === "\n") {
      lines.push("");
      col = 0;
    } else {
      const l = lines[lines.length - 1];
      lines[lines.length - 1] = l.slice(0, col).padEnd(col) + ch + l.slice(col + 1);
      col++;
    }
  }
  return lines.map((l) => l.trimEnd());
}

describe("log lines and a progress bar on one terminal", () => {
  it("a log line blanks the bar, takes its line, and the bar is drawn again below it", () => {
    const out = fakeStream(true);
    const clock = fakeClock();
    const p = new Progress({ label: "train", total: 100, unit: "step", stream: out.stream, now: clock.now });
    clock.set(1000);
    p.tick(34, { loss: 0.69384 });
    writeLine("step 34 (epoch 1): loss 0.6938, learning rate 3.3e-5", out.stream);
    clock.set(2000);
    p.tick(66, { loss: 0.5 });
    writeLine("epoch 1 done", out.stream);
    clock.set(3000);
    p.done();
    const shown = screen(out.text());
    expect(shown[0]).toBe("step 34 (epoch 1): loss 0.6938, learning rate 3.3e-5");
    expect(shown[1]).toBe("epoch 1 done");
    expect(shown[2]).toMatch(/^train \[={20}\] 100% 100\/100 step .* in 0:03 {2}loss=0\.5000$/);
    expect(shown.slice(3)).toEqual([""]);
    expect(out.text()).not.toContain("\x1b");
  });

  it("the CLI's log lines and warnings go through it (stderr on a terminal)", async () => {
    const { logger, warn } = await import("../src/cli/common.js");
    const writes: string[] = [];
    vi.spyOn(process.stderr, "write").mockImplementation((s: string | Uint8Array) => (writes.push(String(s)), true));
    const tty = Object.getOwnPropertyDescriptor(process.stderr, "isTTY");
    Object.defineProperty(process.stderr, "isTTY", { value: true, configurable: true });
    try {
      const clock = fakeClock();
      const p = new Progress({ label: "train", total: 10, unit: "step", now: clock.now });
      clock.set(1000);
      p.tick(3, { loss: 0.6938 });
      logger(false)("step 3 (epoch 1): loss 0.6938");
      warn(false, "something odd");
      clock.set(2000);
      p.done();
    } finally {
      if (tty) Object.defineProperty(process.stderr, "isTTY", tty);
      else delete (process.stderr as { isTTY?: boolean }).isTTY;
    }
    const shown = screen(writes.join("")).map((l) => l.replace(/\x1b\[\d+m/g, ""));
    expect(shown[0]).toBe("step 3 (epoch 1): loss 0.6938");
    expect(shown[1]).toBe("warning: something odd");
    expect(shown[2]).toMatch(/^train \[======> +\] 30% 3\/10 step .* in 0:02 {2}loss=0\.6938$/);
    expect(shown.slice(3)).toEqual([""]);
  });

  it("elsewhere (not a terminal) the line is just written", () => {
    const out = fakeStream(false);
    const p = new Progress({ label: "x", total: 10, stream: out.stream, now: () => 0 });
    p.tick(5);
    writeLine("hello", out.stream);
    expect(out.writes).toEqual(["x 50% 5/10 it  ? it/s  ETA ?\n", "hello\n"]);
  });
});
