import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { isBertuneError } from "../src/errors.js";
import { loadDataset } from "../src/data/index.js";
import { decodeText, firstInvalidUtf8 } from "../src/data/decode.js";
import { parseDelimited } from "../src/data/delimited.js";
import { parseTable } from "../src/data/readers.js";
import { DATASETS, tempDir } from "./helpers/fixtures.js";
import { errorOf } from "./helpers/errors.js";

function write(dir: string, name: string, content: string | Uint8Array): string {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
}

const RAW = join(DATASETS, "raw/rt-polarity.latin1.txt");

describe("CSV (RFC 4180)", () => {
  it("handles quoted newlines, embedded commas, doubled quotes, a BOM, CRLF and blank lines", async () => {
    const dir = tempDir();
    const csv =
      "\uFEFFtext,label\r\n" +
      '"first line\r\nsecond line",pos\r\n' +
      "\r\n" +
      '"a, b and c",neg\r\n' +
      '"she said ""hi"" twice",pos\r\n' +
      "   \r\n" +
      'plain text with a "quote" inside,neg\r\n' +
      '"",neg\r\n';
    const d = await loadDataset(write(dir, "edge.csv", csv), { validationRatio: 0.2 });
    const all = [...d.splits.train, ...d.splits.validation].sort((x, y) => x.text.localeCompare(y.text));
    expect(d.columns).toEqual({ text: "text", label: "label" });
    expect(d.id2label).toEqual(["neg", "pos"]);
    expect(all).toEqual(
      [
        { text: "first line\r\nsecond line", label: 1 },
        { text: "a, b and c", label: 0 },
        { text: 'she said "hi" twice', label: 1 },
        { text: 'plain text with a "quote" inside', label: 0 },
        { text: "", label: 0 },
      ].sort((x, y) => x.text.localeCompare(y.text)),
    );
    expect(d.splits.validation).toHaveLength(1);
  });

  it("numbers records by the line they start on", () => {
    const recs = parseDelimited('a,b\n"x\ny",1\n\nz,2\n', { delimiter: ",", quote: '"', file: "f.csv" });
    expect(recs).toEqual([
      { fields: ["a", "b"], line: 1 },
      { fields: ["x\ny", "1"], line: 2 },
      { fields: ["z", "2"], line: 5 },
    ]);
    expect(parseDelimited("a,b", { delimiter: ",", quote: '"', file: "f" })).toEqual([{ fields: ["a", "b"], line: 1 }]);
    expect(parseDelimited("a,\r", { delimiter: ",", quote: '"', file: "f" })).toEqual([{ fields: ["a", ""], line: 1 }]);
  });

  it("reports a quote that is never closed, with its line", async () => {
    const e = await errorOf(() => parseDelimited('text,label\nok,1\n"never closed,1\nx,0\n', { delimiter: ",", quote: '"', file: "bad.csv" }));
    expect(e.message).toBe("bad.csv, line 3: a quoted field is never closed.");
    const e2 = await errorOf(() => parseDelimited('text,label\n"closed"junk,1\n', { delimiter: ",", quote: '"', file: "bad.csv" }));
    expect(e2.message).toContain("bad.csv, line 2");
  });

  it("rejects a ragged CSV row, naming file and line", async () => {
    const dir = tempDir();
    const path = write(dir, "ragged.csv", "text,label\ngood,1\n\nthis, has a comma,0\n");
    const e = await errorOf(loadDataset(path));
    expect(e.message).toBe(`${path}, line 4: expected 2 comma-separated fields (as in the header) but found 3.`);
    expect(e.hint).toContain("Quote fields");
  });
});

describe("TSV", () => {
  it("splits on tabs only, with no quoting (as GLUE's files are read)", async () => {
    const dir = tempDir();
    const d = await loadDataset(write(dir, "t.tsv", 'sentence\tlabel\n"quoted" start\t1\nplain, with comma\t0\n'), { seed: 1 });
    const all = [...d.splits.train, ...d.splits.validation].map((e) => e.text).sort();
    expect(all).toEqual(['"quoted" start', "plain, with comma"]);
  });

  it("rejects a ragged row with its 1-based line number and a hint", async () => {
    const dir = tempDir();
    const path = write(dir, "ragged.tsv", "sentence\tlabel\r\nfine\t1\r\nalso fine\t0\r\nan extra\ttab\t1\r\n");
    const e = await errorOf(loadDataset(path));
    expect(e.message).toContain(path);
    expect(e.message).toContain("line 4");
    expect(e.message).toContain("expected 2 tab-separated fields (as in the header) but found 3");
    expect(e.hint).toContain("tab");
  });
});

describe("JSON Lines and JSON", () => {
  it("reads .jsonl with CRLF and blank lines, ignoring extra fields", async () => {
    const dir = tempDir();
    const path = write(dir, "d.jsonl", '{"text":"a","label":1,"rating":9}\r\n\r\n{"text":"b","label":0,"rating":2}\r\n{"text":"c","label":1}\n');
    const d = await loadDataset(path, { validationRatio: 0.3 });
    expect([...d.splits.train, ...d.splits.validation].sort((x, y) => x.text.localeCompare(y.text))).toEqual([
      { text: "a", label: 1 },
      { text: "b", label: 0 },
      { text: "c", label: 1 },
    ]);
    expect(d.id2label).toEqual(["LABEL_0", "LABEL_1"]);
  });

  it("names the line of invalid JSON", async () => {
    const dir = tempDir();
    const path = write(dir, "d.jsonl", '{"text":"a","label":1}\n\n{"text": oops}\n');
    const e = await errorOf(loadDataset(path));
    expect(e.message).toContain(`${path}, line 3: not valid JSON`);
  });

  it("reads a .json array and a .json file of lines", () => {
    const bytes = (s: string) => new TextEncoder().encode(s);
    const arr = parseTable(bytes('[{"text":"a","label":0},{"text":"b","label":1}]'), "a.json", "json", "utf8");
    expect(arr.rows.map((r) => r.values)).toEqual([{ text: "a", label: 0 }, { text: "b", label: 1 }]);
    expect(arr.unit).toBe("item");
    const wrapped = parseTable(bytes('{"data":[{"text":"a","label":0}]}'), "w.json", "json", "utf8");
    expect(wrapped.rows).toHaveLength(1);
    const lines = parseTable(bytes('{"text":"a","label":0}\n{"text":"b","label":1}\n'), "l.json", "json", "utf8");
    expect(lines.rows.map((r) => r.line)).toEqual([1, 2]);
    expect(lines.columns).toEqual(["text", "label"]);
  });
});

describe("LABEL SENTENCE text files and encodings", () => {
  it("utf8 (the default) rejects the Latin-1 file, naming the line of the first bad byte", async () => {
    const bytes = readFileSync(RAW);
    const bad = firstInvalidUtf8(bytes);
    const line = bytes.subarray(0, bad).filter((b) => b === 0x0a).length + 1;
    expect(line).toBe(32);
    const e = await errorOf(loadDataset(RAW));
    expect(e.message).toContain(RAW);
    expect(e.message).toContain("line 32");
    expect(e.hint).toContain("--encoding latin1");
  });

  it("latin1 reads 10662 examples in 2 classes, the same sentences as the converted CSV", async () => {
    const d = await loadDataset(RAW, { encoding: "latin1" });
    expect(d.name).toBe("rt-polarity.latin1.txt");
    expect(d.source).toBe(RAW);
    expect(d.splits.train.length + d.splits.validation.length).toBe(10662);
    expect(d.id2label).toEqual(["LABEL_0", "LABEL_1"]);
    expect(d.columns).toEqual({ text: "text", label: "label" });

    // Row by row, the text equals the UTF-8 CSV made from it (which replaced U+0085 by "...").
    const txt = parseTable(readFileSync(RAW), "raw", "txt", "latin1");
    const csv = parseTable(readFileSync(join(DATASETS, "rotten_tomatoes/all.csv")), "csv", "csv", "utf8");
    expect(txt.rows).toHaveLength(10662);
    expect(txt.rows.map((r) => (r.values.text as string).replaceAll("\u0085", "..."))).toEqual(csv.rows.map((r) => r.values.text));
    expect(txt.rows.map((r) => r.values.label)).toEqual(csv.rows.map((r) => r.values.label));
    expect(txt.rows.some((r) => (r.values.text as string).includes("é"))).toBe(true);
  });

  it("rejects a line with a label but no text", async () => {
    const dir = tempDir();
    const path = write(dir, "d.txt", "1 good movie\n0\n");
    const e = await errorOf(loadDataset(path));
    expect(e.message).toContain(`${path}, line 2`);
  });

  it("decodes strictly and finds the first invalid UTF-8 byte", async () => {
    expect(decodeText(new Uint8Array([0xef, 0xbb, 0xbf, 0x61]), "utf8", "f")).toBe("a");
    expect(decodeText(new Uint8Array([0x61, 0xe9]), "latin1", "f")).toBe("aé");
    expect(decodeText(new Uint8Array([0x85]), "latin1", "f")).toBe("\u0085");
    expect(firstInvalidUtf8(new TextEncoder().encode("ok é € 😀"))).toBe(-1);
    expect(firstInvalidUtf8(new Uint8Array([0x61, 0xc0, 0x80]))).toBe(1); // overlong
    expect(firstInvalidUtf8(new Uint8Array([0x61, 0xed, 0xa0, 0x80]))).toBe(1); // surrogate
    expect(firstInvalidUtf8(new Uint8Array([0x61, 0x62, 0xe2, 0x82]))).toBe(2); // truncated
    const e = await errorOf(() => decodeText(new Uint8Array([0x61, 0x0a, 0x0a, 0x62, 0xff]), "utf8", "x.csv"));
    expect(e.message).toBe("x.csv is not valid UTF-8: line 3 has the invalid byte 0xff.");
  });
});

describe("empty and unsupported files", () => {
  it("rejects an empty file, a header-only file and an unknown extension", async () => {
    const dir = tempDir();
    const empty = write(dir, "empty.csv", "\r\n\r\n");
    expect((await errorOf(loadDataset(empty))).message).toContain("is empty");
    const header = write(dir, "header.tsv", "sentence\tlabel\n");
    expect((await errorOf(loadDataset(header))).message).toContain("holds no examples");
    const jsonl = write(dir, "blank.jsonl", "\n\n");
    expect((await errorOf(loadDataset(jsonl))).message).toContain("holds no examples");
    const xls = write(dir, "data.xlsx", "x");
    expect((await errorOf(loadDataset(xls))).message).toContain('unsupported file type ".xlsx"');
  });
});

/** A ZIP archive's bytes (stored entries, no compression), as an .xlsx, .docx or plain .zip starts. */
function zipOf(names: string[]): Uint8Array {
  const parts: Buffer[] = [];
  for (const name of names) {
    const data = Buffer.from(`<?xml version="1.0"?><x>${name}</x>`);
    const h = Buffer.alloc(30);
    h.writeUInt32LE(0x04034b50, 0);
    h.writeUInt16LE(20, 4);
    h.writeUInt32LE(data.length, 18);
    h.writeUInt32LE(data.length, 22);
    h.writeUInt16LE(name.length, 26);
    parts.push(h, Buffer.from(name, "latin1"), data);
  }
  parts.push(Buffer.from([0x50, 0x4b, 0x05, 0x06, ...new Array(18).fill(0)]));
  return new Uint8Array(Buffer.concat(parts));
}

describe("files that are not text, whatever their name says", () => {
  const utf16 = (s: string, le: boolean) => {
    const b = Buffer.from(s, "utf16le");
    if (!le) b.swap16();
    return new Uint8Array(b);
  };
  const cases: [string, Uint8Array, RegExp, RegExp][] = [
    ["xlsx", zipOf(["[Content_Types].xml", "_rels/.rels", "docProps/app.xml", "xl/workbook.xml", "xl/worksheets/sheet1.xml"]), /is an Excel workbook \(\.xlsx, a ZIP archive\), not a text file\.$/, /Save the sheet as CSV/],
    ["docx", zipOf(["[Content_Types].xml", "word/document.xml"]), /is a Word document/, /\.csv, \.tsv or \.jsonl/],
    ["zip", zipOf(["train.csv"]), /is a ZIP archive, not a text file\.$/, /Unzip it/],
    ["xls", new Uint8Array([0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1, 0, 0, 0x3e]), /old-style Office file/, /CSV/],
    ["pdf", new TextEncoder().encode("%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\n"), /is a PDF document, not a text file\.$/, /\.csv, \.tsv or \.jsonl/],
    ["gzip", new Uint8Array([0x1f, 0x8b, 0x08, 0x00, 0, 0, 0, 0, 0, 0x03, 0x2b, 0x49, 0xad, 0x28, 0x01, 0x00]), /is gzip-compressed\.$/, /gunzip/],
    ["utf-16 le with BOM", new Uint8Array([0xff, 0xfe, ...utf16("text,label\na,0\n", true)]), /is a UTF-16 LE text file \(it starts with a UTF-16 byte order mark\)\.$/, /UTF-8/],
    ["utf-16 be with BOM", new Uint8Array([0xfe, 0xff, ...utf16("text,label\na,0\n", false)]), /is a UTF-16 BE text file/, /UTF-8/],
    ["utf-16 le without BOM", utf16("text,label\nfine,0\nbad,1\n", true), /is a UTF-16 LE text file \(every other byte is 0\)\.$/, /UTF-8/],
    ["utf-32 le", new Uint8Array([0xff, 0xfe, 0, 0, 0x74, 0, 0, 0]), /is a UTF-32 text file/, /UTF-8/],
    ["parquet", new Uint8Array([...new TextEncoder().encode("PAR1"), 0x15, 0x04]), /is a Parquet file/, /\.parquet extension/],
  ];

  it.each(cases)("a %s file named .csv says what it is, with utf8 and with --encoding latin1", async (_what, bytes, message, hint) => {
    for (const encoding of ["utf8", "latin1"] as const) {
      const e = await errorOf(() => parseTable(bytes, "data.csv", "csv", encoding));
      expect(e.message).toMatch(/^data\.csv /);
      expect(e.message).toMatch(message);
      expect(e.message).not.toContain("UTF-8: line");
      expect(e.hint).toMatch(hint);
      expect(e.hint).not.toContain("--encoding latin1");
    }
  });

  it("through loadDataset too, for every text extension", async () => {
    const dir = tempDir();
    for (const ext of ["csv", "tsv", "jsonl", "json", "txt"]) {
      const e = await errorOf(loadDataset(write(dir, `sheet.${ext}`, cases[0][1])));
      expect(e.message).toContain(`sheet.${ext} is an Excel workbook`);
    }
  });

  it("leaves text alone: NUL-free UTF-8, Latin-1 and a UTF-8 BOM are still text", () => {
    expect(decodeText(new TextEncoder().encode("PK is a label\n"), "utf8", "f")).toBe("PK is a label\n");
    expect(decodeText(new Uint8Array([0x25, 0x50, 0x44, 0x46, 0x20, 0x61]), "utf8", "f")).toBe("%PDF a");
    expect(decodeText(new Uint8Array([0xef, 0xbb, 0xbf, 0x61, 0x00, 0x62]), "utf8", "f")).toBe("a\0b");
  });
});
