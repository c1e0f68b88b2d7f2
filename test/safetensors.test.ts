import { readFileSync, rmSync, writeFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { BertuneError } from "../src/errors.js";
import { Rng } from "../src/util/rng.js";
import {
  bf16ToNumber,
  expectTensor,
  f16ToNumber,
  parseSafetensors,
  readSafetensors,
  serializeSafetensors,
  tensorToFloat32,
  writeSafetensors,
  type TensorToWrite,
} from "../src/formats/safetensors.js";
import { TINY_MODEL, tempDir } from "./helpers/fixtures.js";

const dirs: string[] = [];
function tmp(): string {
  const d = tempDir("bertune-st-");
  dirs.push(d);
  return d;
}
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** Build a safetensors file from a raw header (any JSON value or a string) and a data section. */
function build(header: unknown, data: Uint8Array | number = 0, opts: { headerLen?: bigint } = {}): Uint8Array {
  const json = new TextEncoder().encode(typeof header === "string" ? header : JSON.stringify(header));
  const bytes = typeof data === "number" ? new Uint8Array(data) : data;
  const out = new Uint8Array(8 + json.length + bytes.length);
  new DataView(out.buffer).setBigUint64(0, opts.headerLen ?? BigInt(json.length), true);
  out.set(json, 8);
  out.set(bytes, 8 + json.length);
  return out;
}

function u16le(values: number[]): Uint8Array {
  const out = new Uint8Array(values.length * 2);
  const v = new DataView(out.buffer);
  values.forEach((x, i) => v.setUint16(i * 2, x, true));
  return out;
}

function expectCorrupt(bytes: Uint8Array, pattern?: RegExp): BertuneError {
  let caught: unknown;
  try {
    parseSafetensors(bytes, "bad.safetensors");
  } catch (e) {
    caught = e;
  }
  expect(caught).toBeInstanceOf(BertuneError);
  const err = caught as BertuneError;
  expect(err.message).toContain("bad.safetensors");
  expect(err.hint).toMatch(/corrupt or truncated/);
  expect(err.hint).toMatch(/download/);
  if (pattern) expect(err.message).toMatch(pattern);
  return err;
}

const SMALL: Record<string, TensorToWrite> = {
  "b.bias": { dtype: "F32", shape: [3], data: new Float32Array([1, -2, 3.5]) },
  "a.weight": { dtype: "F32", shape: [2, 3], data: new Float32Array([0.1, 0.2, 0.3, -0.4, 1e-30, 65504]) },
  scalar: { dtype: "F32", shape: [], data: new Float32Array([42]) },
  empty: { dtype: "F32", shape: [0, 4], data: new Float32Array(0) },
};

describe("reading the tiny BERT fixture", () => {
  const path = join(TINY_MODEL, "model.safetensors");
  const file = readSafetensors(path);

  it("lists the BertModel tensors with their shapes", () => {
    expect(file.tensors.size).toBe(39);
    expect(file.tensors.get("embeddings.word_embeddings.weight")?.shape).toEqual([30522, 32]);
    expect(file.tensors.get("embeddings.word_embeddings.weight")?.dtype).toBe("F32");
    expect(file.tensors.get("pooler.dense.weight")?.shape).toEqual([32, 32]);
    expect(file.tensors.has("encoder.layer.1.attention.self.query.weight")).toBe(true);
    expect(file.metadata).toEqual({ format: "pt" });
    expect(file.source).toBe(path);
    expectTensor(file, "embeddings.word_embeddings.weight", [30522, 32]);
    expectTensor(file, "pooler.dense.weight", [32, 32]);
  });

  it("has a data section exactly the size of its tensors", () => {
    let total = 0;
    for (const info of file.tensors.values()) total += info.shape.reduce((a, b) => a * b, 1) * 4;
    expect(file.buffer.length).toBe(total);
    expect(file.buffer.length).toBe(statSync(path).size - 8 - 4104);
  });

  it("decodes finite values without copying aligned F32 data", () => {
    const w = tensorToFloat32(file, "embeddings.word_embeddings.weight");
    expect(w.length).toBe(30522 * 32);
    expect(w.buffer).toBe(file.buffer.buffer); // a view, not a copy
    for (const i of [0, 1, 31, 12345, w.length - 1]) expect(Number.isFinite(w[i])).toBe(true);
    let sumSq = 0;
    for (let i = 0; i < w.length; i++) sumSq += w[i] * w[i];
    expect(sumSq).toBeGreaterThan(0);
    const ln = tensorToFloat32(file, "embeddings.LayerNorm.weight");
    expect(ln.length).toBe(32);
    expect(ln.every((x) => Number.isFinite(x))).toBe(true);
    // Values agree with a manual little-endian read.
    const [begin] = file.tensors.get("pooler.dense.weight")!.dataOffsets;
    const dv = new DataView(file.buffer.buffer, file.buffer.byteOffset + begin, 8);
    const pooler = tensorToFloat32(file, "pooler.dense.weight");
    expect(pooler[0]).toBe(dv.getFloat32(0, true));
    expect(pooler[1]).toBe(dv.getFloat32(4, true));
  });

  it("expectTensor names the tensor and both shapes on mismatch, and missing tensors", () => {
    expect(() => expectTensor(file, "pooler.dense.weight", [32, 64])).toThrow(BertuneError);
    try {
      expectTensor(file, "pooler.dense.weight", [32, 64]);
    } catch (e) {
      expect((e as Error).message).toContain("pooler.dense.weight");
      expect((e as Error).message).toContain("[32, 64]");
      expect((e as Error).message).toContain("[32, 32]");
    }
    expect(() => expectTensor(file, "classifier.weight", [2, 32])).toThrow(/classifier\.weight.*not found/);
    expect(() => tensorToFloat32(file, "nope")).toThrow(BertuneError);
  });

  it("re-serializes to the same bytes (same layout as the Python library)", () => {
    const tensors: Record<string, TensorToWrite> = {};
    for (const [name, info] of file.tensors) tensors[name] = { dtype: "F32", shape: info.shape, data: tensorToFloat32(file, name) };
    const bytes = serializeSafetensors(tensors, file.metadata);
    const original = readFileSync(path);
    expect(bytes.length).toBe(original.length);
    expect(Buffer.from(bytes).equals(original)).toBe(true);
  });
});

describe("writing", () => {
  it("round-trips tensors and metadata through a file", () => {
    const path = join(tmp(), "sub", "model.safetensors");
    writeSafetensors(path, SMALL, { format: "pt", note: "héllo" });
    const file = readSafetensors(path);
    expect(file.metadata).toEqual({ format: "pt", note: "héllo" });
    expect([...file.tensors.keys()].sort()).toEqual(Object.keys(SMALL).sort());
    for (const [name, t] of Object.entries(SMALL)) {
      expect(file.tensors.get(name)?.shape).toEqual(t.shape);
      expect(Array.from(tensorToFloat32(file, name))).toEqual(Array.from(t.data));
    }
  });

  it("lays the file out as the spec says: aligned header, sorted names, packed data", () => {
    const bytes = serializeSafetensors(SMALL);
    const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const n = Number(dv.getBigUint64(0, true));
    expect(n % 8).toBe(0);
    const text = new TextDecoder().decode(bytes.subarray(8, 8 + n));
    expect(text.startsWith("{")).toBe(true);
    expect(text.trimEnd().endsWith("}")).toBe(true);
    expect(/^ *$/.test(text.slice(text.trimEnd().length))).toBe(true); // padded with spaces only
    const header = JSON.parse(text) as Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] }>;
    expect(header.__metadata__).toBeUndefined();
    expect(Object.keys(header)).toEqual(["a.weight", "b.bias", "empty", "scalar"]);
    expect(header["a.weight"]).toEqual({ dtype: "F32", shape: [2, 3], data_offsets: [0, 24] });
    expect(header["b.bias"]).toEqual({ dtype: "F32", shape: [3], data_offsets: [24, 36] });
    expect(header.empty).toEqual({ dtype: "F32", shape: [0, 4], data_offsets: [36, 36] });
    expect(header.scalar).toEqual({ dtype: "F32", shape: [], data_offsets: [36, 40] });
    expect(bytes.length).toBe(8 + n + 40);
    expect(dv.getFloat32(8 + n + 24, true)).toBe(1);
    expect(dv.getFloat32(8 + n + 36, true)).toBe(42);
  });

  it("puts metadata in the header", () => {
    const bytes = serializeSafetensors(SMALL, { format: "pt" });
    const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n)));
    expect(header.__metadata__).toEqual({ format: "pt" });
  });

  it("returns a copy for misaligned F32 data", () => {
    const bytes = serializeSafetensors(SMALL);
    const shifted = new Uint8Array(bytes.length + 1);
    shifted.set(bytes, 1);
    const file = parseSafetensors(shifted.subarray(1));
    const a = tensorToFloat32(file, "a.weight");
    expect(Array.from(a)).toEqual(Array.from(SMALL["a.weight"].data));
  });

  it("rejects inconsistent input", () => {
    expect(() => serializeSafetensors({ x: { dtype: "F32", shape: [2, 2], data: new Float32Array(3) } })).toThrow(/holds 4 values/);
  });
});

describe("half-precision decoding", () => {
  it("decodes F16 exactly", () => {
    expect(f16ToNumber(0x3c00)).toBe(1);
    expect(f16ToNumber(0xc000)).toBe(-2);
    expect(f16ToNumber(0x7c00)).toBe(Infinity);
    expect(f16ToNumber(0xfc00)).toBe(-Infinity);
    expect(f16ToNumber(0x7e00)).toBeNaN();
    expect(f16ToNumber(0x0001)).toBe(2 ** -24); // smallest subnormal
    expect(f16ToNumber(0x03ff)).toBe(1023 * 2 ** -24); // largest subnormal
    expect(f16ToNumber(0x0400)).toBe(2 ** -14); // smallest normal
    expect(f16ToNumber(0x7bff)).toBe(65504); // largest finite
    expect(f16ToNumber(0x3555)).toBe(0.333251953125);
    expect(Object.is(f16ToNumber(0x8000), -0)).toBe(true);

    const values = [0x3c00, 0xc000, 0x7c00, 0x0001, 0x7bff, 0x3555, 0x8000, 0x7e00];
    const file = parseSafetensors(build({ h: { dtype: "F16", shape: [values.length], data_offsets: [0, 16] } }, u16le(values)));
    const out = tensorToFloat32(file, "h");
    expect(Array.from(out.subarray(0, 6))).toEqual([1, -2, Infinity, 2 ** -24, 65504, 0.333251953125]);
    expect(Object.is(out[6], -0)).toBe(true);
    expect(out[7]).toBeNaN();
  });

  it("decodes BF16 exactly", () => {
    expect(bf16ToNumber(0x3f80)).toBe(1);
    expect(bf16ToNumber(0xc000)).toBe(-2);
    expect(bf16ToNumber(0x4049)).toBe(3.140625);
    expect(bf16ToNumber(0x7f80)).toBe(Infinity);
    expect(bf16ToNumber(0xff80)).toBe(-Infinity);
    expect(bf16ToNumber(0x7fc0)).toBeNaN();
    expect(bf16ToNumber(0x0001)).toBe(2 ** -133); // smallest subnormal
    expect(bf16ToNumber(0x7f7f)).toBe(0xff * 2 ** (127 - 7)); // largest finite

    const values = [0x3f80, 0xc000, 0x4049, 0x7f80, 0x0001, 0x7fc0];
    const file = parseSafetensors(build({ b: { dtype: "BF16", shape: [2, 3], data_offsets: [0, 12] } }, u16le(values)));
    const out = tensorToFloat32(file, "b");
    expect(Array.from(out.subarray(0, 5))).toEqual([1, -2, 3.140625, Infinity, 2 ** -133]);
    expect(out[5]).toBeNaN();
  });

  it("converts F64 and refuses integer dtypes", () => {
    const data = new Uint8Array(16);
    new DataView(data.buffer).setFloat64(0, 0.5, true);
    new DataView(data.buffer).setFloat64(8, -3.25, true);
    const f64 = parseSafetensors(build({ d: { dtype: "F64", shape: [2], data_offsets: [0, 16] } }, data));
    expect(Array.from(tensorToFloat32(f64, "d"))).toEqual([0.5, -3.25]);
    const i64 = parseSafetensors(build({ ids: { dtype: "I64", shape: [2], data_offsets: [0, 16] } }, 16));
    expect(() => tensorToFloat32(i64, "ids")).toThrow(/I64/);
    expect(() => tensorToFloat32(i64, "ids")).toThrow(BertuneError);
  });
});

describe("malformed files", () => {
  const ok = (name = "t", dtype = "F32", shape: number[] = [2], offsets = [0, 8]) => ({ [name]: { dtype, shape, data_offsets: offsets } });

  it("accepts a minimal valid file", () => {
    const f = parseSafetensors(build(ok(), 8));
    expect(f.tensors.get("t")).toEqual({ dtype: "F32", shape: [2], dataOffsets: [0, 8] });
    expect(parseSafetensors(build({}, 0)).tensors.size).toBe(0);
  });

  it("rejects files shorter than 8 bytes", () => {
    expectCorrupt(new Uint8Array(0), /shorter than/);
    expectCorrupt(new Uint8Array(7), /shorter than/);
  });

  it("rejects a header length bigger than the file", () => {
    const bytes = build(ok(), 8);
    expectCorrupt(build(ok(), 8, { headerLen: BigInt(bytes.length) }), /header claims/);
    expectCorrupt(bytes.subarray(0, 20), /header claims/); // truncated inside the header
  });

  it("rejects an absurd header length before allocating anything", () => {
    expectCorrupt(build(ok(), 8, { headerLen: 2n ** 64n - 1n }), /limit/);
    expectCorrupt(build(ok(), 8, { headerLen: 200_000_000n }), /limit/);
  });

  it("rejects a truncated data section", () => {
    const bytes = build(ok(), 8);
    expectCorrupt(bytes.subarray(0, bytes.length - 1), /past the end/);
  });

  it("rejects headers that are not UTF-8 JSON objects", () => {
    const bad = build("{\"t\": 1}");
    bad[9] = 0xff;
    expectCorrupt(bad, /UTF-8/);
    expectCorrupt(build("{not json"), /JSON/);
    expectCorrupt(build("[1, 2, 3]"), /not a JSON object/);
    expectCorrupt(build("null "), /not a JSON object/);
    expectCorrupt(build({ t: 5 }), /entry is not an object/);
  });

  it("rejects unknown dtypes", () => {
    expectCorrupt(build(ok("t", "F8"), 8), /unknown dtype "F8"/);
    expectCorrupt(build(ok("t", "f32"), 8), /unknown dtype/);
    expectCorrupt(build({ t: { shape: [2], data_offsets: [0, 8] } }, 8), /unknown dtype/);
  });

  it("rejects bad shapes", () => {
    expectCorrupt(build(ok("t", "F32", [-2] as number[]), 8), /shape/);
    expectCorrupt(build(ok("t", "F32", [1.5] as number[]), 8), /shape/);
    expectCorrupt(build({ t: { dtype: "F32", shape: "2", data_offsets: [0, 8] } }, 8), /shape/);
    expectCorrupt(build({ t: { dtype: "F32", shape: ["2"], data_offsets: [0, 8] } }, 8), /shape/);
  });

  it("rejects a shape that does not match the byte size", () => {
    expectCorrupt(build(ok("t", "F32", [3]), 8), /needs 12 bytes.*hold 8/);
    expectCorrupt(build(ok("t", "F16", [2]), 8), /needs 4 bytes/);
  });

  it("rejects a huge claimed shape without allocating", () => {
    expectCorrupt(build(ok("t", "F32", [1e12, 1e12]), 8), /needs 4000000000000000000000000 bytes/);
    // Overflowing products must not wrap into a false match.
    expectCorrupt(build(ok("t", "U8", [2 ** 52, 2 ** 52, 0 + 1]), 8), /needs/);
  });

  it("rejects bad offsets", () => {
    expectCorrupt(build(ok("t", "F32", [2], [0, 12]), 8), /past the end/);
    expectCorrupt(build(ok("t", "F32", [0], [8, 0]), 8), /begin after end/);
    expectCorrupt(build(ok("t", "F32", [2], [0.5, 8.5]), 9), /data_offsets/);
    expectCorrupt(build(ok("t", "F32", [2], [-8, 0]), 8), /data_offsets/);
    expectCorrupt(build({ t: { dtype: "F32", shape: [2], data_offsets: [0] } }, 8), /data_offsets/);
    expectCorrupt(build({ t: { dtype: "F32", shape: [2] } }, 8), /data_offsets/);
  });

  it("rejects overlapping tensors", () => {
    const header = { ...ok("a", "F32", [2], [0, 8]), ...ok("b", "F32", [2], [4, 12]) };
    expectCorrupt(build(header, 12), /overlaps/);
    const same = { ...ok("a", "F32", [2], [0, 8]), ...ok("b", "F32", [2], [0, 8]) };
    expectCorrupt(build(same, 8), /overlaps/);
  });

  it("rejects gaps and uncovered trailing bytes", () => {
    const header = { ...ok("a", "F32", [1], [0, 4]), ...ok("b", "F32", [1], [8, 12]) };
    expectCorrupt(build(header, 12), /gap at bytes 4\.\.8/);
    expectCorrupt(build(ok("t", "F32", [2], [4, 12]), 12), /gap at bytes 0\.\.4/);
    expectCorrupt(build(ok(), 9), /cover 8 bytes.*9 bytes/);
    expectCorrupt(build({}, 4), /cover 0 bytes/);
  });

  it("rejects non-string metadata", () => {
    expectCorrupt(build({ ...ok(), __metadata__: { format: 1 } }, 8), /metadata value "format"/);
    expectCorrupt(build({ ...ok(), __metadata__: ["pt"] }, 8), /__metadata__/);
    expect(parseSafetensors(build({ ...ok(), __metadata__: { format: "pt" } }, 8)).metadata).toEqual({ format: "pt" });
  });

  it("names the file in errors from readSafetensors, and reports a missing file", () => {
    const dir = tmp();
    const path = join(dir, "broken.safetensors");
    writeFileSync(path, build(ok(), 4));
    expect(() => readSafetensors(path)).toThrow(BertuneError);
    expect(() => readSafetensors(path)).toThrow(path);
    expect(() => readSafetensors(join(dir, "missing.safetensors"))).toThrow(/not found/);
  });
});

describe("fuzzing", () => {
  it("never throws anything but BertuneError on mutated files", () => {
    const base = serializeSafetensors(
      {
        "enc.w": { dtype: "F32", shape: [2, 3], data: new Float32Array([1, 2, 3, 4, 5, 6]) },
        "enc.b": { dtype: "F32", shape: [3], data: new Float32Array([0.5, -0.5, 0]) },
        z: { dtype: "F32", shape: [0], data: new Float32Array(0) },
      },
      { format: "pt" },
    );
    const headerLen = Number(new DataView(base.buffer).getBigUint64(0, true));
    const rng = new Rng(1234);
    const tokens = ['"', "{", "}", "[", "]", ",", ":", "-1", "1e12", "0.5", "null", '"F16"', '"X"', "99999999999999999999", "\\", "\u00e9"];
    let parsed = 0;
    let rejected = 0;
    for (let iter = 0; iter < 2000; iter++) {
      let bytes = base.slice();
      const mutations = 1 + rng.int(3);
      for (let m = 0; m < mutations; m++) {
        const kind = rng.int(6);
        if (kind === 0 && bytes.length > 0) {
          bytes[rng.int(bytes.length)] ^= 1 << rng.int(8); // flip a bit anywhere
        } else if (kind === 1 && bytes.length > 8) {
          bytes[8 + rng.int(Math.min(headerLen, bytes.length - 8))] = rng.int(256); // random byte in the header
        } else if (kind === 2) {
          bytes = bytes.slice(0, rng.int(bytes.length + 1)); // truncate
        } else if (kind === 3 && bytes.length >= 8) {
          const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
          const choices = [0n, 1n, BigInt(headerLen + rng.int(17) - 8), BigInt(bytes.length), 2n ** 63n, BigInt(rng.int(2 ** 31))];
          dv.setBigUint64(0, choices[rng.int(choices.length)], true); // change the header length
        } else if (kind === 4 && bytes.length > 8) {
          // Splice a JSON-ish token into the header text, keeping the header length consistent.
          const text = new TextDecoder().decode(bytes.subarray(8, 8 + headerLen));
          const at = rng.int(text.length + 1);
          const cut = rng.int(4);
          const next = text.slice(0, at) + tokens[rng.int(tokens.length)] + text.slice(at + cut);
          const enc = new TextEncoder().encode(next);
          const out = new Uint8Array(8 + enc.length + Math.max(0, bytes.length - 8 - headerLen));
          new DataView(out.buffer).setBigUint64(0, BigInt(enc.length), true);
          out.set(enc, 8);
          if (bytes.length > 8 + headerLen) out.set(bytes.subarray(8 + headerLen), 8 + enc.length);
          bytes = out;
        } else if (kind === 5) {
          const extra = new Uint8Array(rng.int(9));
          const out = new Uint8Array(bytes.length + extra.length);
          out.set(bytes);
          bytes = out; // append bytes
        }
      }
      try {
        const file = parseSafetensors(bytes, "fuzz.safetensors");
        parsed++;
        for (const [name, info] of file.tensors) {
          if (info.dtype === "F32" || info.dtype === "F16" || info.dtype === "BF16" || info.dtype === "F64") {
            expect(tensorToFloat32(file, name).length).toBe(info.shape.reduce((a, b) => a * b, 1));
          }
        }
      } catch (e) {
        if (!(e instanceof BertuneError)) throw new Error(`iteration ${iter}: ${String(e)}`);
        rejected++;
      }
    }
    expect(parsed + rejected).toBe(2000);
    expect(rejected).toBeGreaterThan(500);
    expect(parsed).toBeGreaterThan(0);
  });
});
