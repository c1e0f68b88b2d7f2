import { Command } from "commander";
import { FillMask, type FillMaskCandidate } from "../../pretrain/fill-mask.js";
import { action, addModelOptions, logger, positiveIntArg, type ModelCliOptions } from "../common.js";

interface FillMaskCliOptions extends ModelCliOptions {
  model: string;
  topK: number;
  json?: boolean;
}

export function fillMaskCommand(): Command {
  const cmd = new Command("fill-mask")
    .description("the most probable tokens for each [MASK] in a text, as transformers' fill-mask pipeline (a model with an MLM head: a `bertune pretrain` output)")
    .argument("<text...>", 'one or more texts, each with at least one [MASK], e.g. "the movie was [MASK] ."')
    .requiredOption("-m, --model <id|dir>", "a BertForMaskedLM folder (bertune pretrain's output) or Hub id")
    .option("-k, --top-k <n>", "how many tokens to show per mask", positiveIntArg("--top-k", 5), 5)
    .option("--json", "print the pipeline's output as JSON: [{score, token, token_str, sequence}, ...] per text (a list per mask when a text has several)", false);
  addModelOptions(cmd);
  cmd.addHelpText(
    "after",
    `
Examples:
  $ bertune fill-mask --model runs/bert-imdb "the movie was [MASK] ."
  $ bertune fill-mask --model runs/bert-imdb --top-k 10 --json "a [MASK] performance by the [MASK] cast"`,
  );
  cmd.action(
    action(async (texts: string[], o: FillMaskCliOptions) => {
      const log = logger(o.quiet || o.json);
      const fm = await FillMask.load(o.model, { device: o.device, revision: o.revision, offline: o.offline || undefined, log: o.verbose ? log : undefined });
      try {
        const results: FillMaskCandidate[][][] = [];
        for (const t of texts) results.push(await fm.predict(t, o.topK));
        if (o.json) {
          // As the pipeline: a flat list for a text with one mask, a list per mask otherwise; one entry per text.
          const shaped = results.map((r) => (r.length === 1 ? r[0] : r));
          process.stdout.write(JSON.stringify(texts.length === 1 ? shaped[0] : shaped) + "\n");
          return;
        }
        const lines: string[] = [];
        texts.forEach((t, i) => {
          lines.push(t);
          results[i].forEach((cands, m) => {
            if (results[i].length > 1) lines.push(`  mask ${m + 1}:`);
            const w = Math.max(...cands.map((c) => c.token_str.length));
            for (const c of cands) lines.push(`  ${c.score.toFixed(4)}  ${c.token_str.padEnd(w)}  ${c.sequence}`);
          });
        });
        process.stdout.write(lines.join("\n") + "\n");
      } finally {
        fm.dispose();
      }
    }),
  );
  return cmd;
}
