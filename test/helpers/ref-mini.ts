import { readFileSync } from "node:fs";
import { join } from "node:path";
import { vi } from "vitest";
import { readBertConfig } from "../../src/bert/config.js";
import { LinearHead } from "../../src/heads/linear-head.js";
import type { LoadedDataset } from "../../src/data/types.js";
import type { FullModelSource } from "../../src/model.js";
import { ROOT } from "./fixtures.js";

/**
 * test/fixtures/ref-mini: a small BERT (vocab 40, hidden 16, 2 layers, dropout 0) and the
 * outputs of an independent plain-PyTorch implementation, written by scripts/make_references.py.
 */
export const REF_MINI = join(ROOT, "test/fixtures/ref-mini");
export const refMini = JSON.parse(readFileSync(join(REF_MINI, "reference.json"), "utf8"));
export const refMiniConfig = readBertConfig(join(REF_MINI, "config.json"));

/** The fixture's model as a full-mode source; its "tokenizer" reads texts written as "ids|token types". */
export function refMiniSource(): FullModelSource {
  const tokenizer = {
    padTokenId: 0,
    encodeOne(text: string) {
      const [ids, typeIds] = text.split("|").map((s) => s.split(" ").map(Number));
      return { ids, typeIds };
    },
  };
  return { id: REF_MINI, revision: "local", local: true, config: refMiniConfig, tokenizer, files: {}, weights: join(REF_MINI, "model.safetensors") } as unknown as FullModelSource;
}

/** The fixture's batch as a data set; validation is the same rows, or with every label flipped. */
export function refMiniDataset(o: { flipValidation?: boolean } = {}): LoadedDataset {
  const B = refMini.batch;
  const rows = B.input_ids.map((ids: number[], b: number) => {
    const n = B.attention_mask[b].reduce((s: number, m: number) => s + m, 0);
    return { text: `${ids.slice(0, n).join(" ")}|${B.token_type_ids[b].slice(0, n).join(" ")}`, label: B.labels[b] as number };
  });
  return {
    name: "ref-mini",
    source: REF_MINI,
    contentHash: `ref-mini${o.flipValidation ? "-flipped" : ""}`,
    splits: { train: rows, validation: o.flipValidation ? rows.map((r: { text: string; label: number }) => ({ ...r, label: 1 - r.label })) : rows },
    validationSource: "file",
    id2label: ["LABEL_0", "LABEL_1"],
    columns: { text: "text", label: "label" },
  };
}

/** Make the trainer's head start from the reference's classifier init (its own init is seeded). Undo with vi.restoreAllMocks(). */
export function useReferenceHeadInit(): void {
  const head = refMini.head_init;
  vi.spyOn(LinearHead, "init").mockImplementation(
    (hidden: number, labels: number, x: { dropout: number }) => new LinearHead(hidden, labels, Float32Array.from(head.weight), Float32Array.from(head.bias), x.dropout),
  );
}
