import type { LoadedDataset } from "../../src/data/types.js";
import { Rng } from "../../src/util/rng.js";

/** A task the tiny random BERT can learn: the label is which of two words the sentence contains. */
export function keywordDataset(n: number, seed: number): LoadedDataset {
  const rng = new Rng(seed);
  const filler = ["the", "film", "was", "a", "story", "about", "people", "and", "time", "with", "some", "music"];
  const make = (count: number) =>
    Array.from({ length: count }, (_, i) => {
      const label = i % 2;
      const words = Array.from({ length: 3 + rng.int(5) }, () => filler[rng.int(filler.length)]);
      words.splice(rng.int(words.length + 1), 0, label ? "wonderful" : "terrible");
      return { text: words.join(" "), label };
    });
  return {
    name: "keywords",
    source: "generated",
    contentHash: `keywords-${n}-${seed}`,
    splits: { train: make(n), validation: make(40) },
    validationSource: "file",
    id2label: ["negative", "positive"],
    columns: { text: "text", label: "label" },
  };
}
