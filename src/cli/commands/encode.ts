import { Command } from "commander";
import { POOLINGS, type Pooling } from "../../bert/onnx-encoder.js";
import { encode, type Engine } from "../../encode.js";
import { BertuneError } from "../../errors.js";
import { action, addModelOptions, choiceArg, intArg, logger, type ModelCliOptions } from "../common.js";

interface EncodeCliOptions extends ModelCliOptions {
  model: string;
  engine: Engine;
  pooling: Pooling;
  maxLength: number;
  json?: boolean;
}

export function encodeCommand(): Command {
  const cmd = new Command("encode")
    .description("print the pooled encoder vectors of texts, from the ONNX or the tensorflow.js engine")
    .argument("<texts...>", "texts to encode")
    .requiredOption("-m, --model <id|dir>", "Hub model id or local folder")
    .option("--engine <engine>", "onnx (the frozen path's encoder) or tfjs (BERT in tensorflow.js with converted weights)", choiceArg("--engine", ["onnx", "tfjs"] as const), "onnx")
    .option("--pooling <how>", `pooled output: ${POOLINGS.join(", ")}`, choiceArg("--pooling", POOLINGS), "pooler")
    .option("--max-length <n>", "truncate inputs to this many tokens", intArg("--max-length", { min: 2, example: 128 }), 128)
    .option("--json", "print {text, vector} objects, one per line", false);
  addModelOptions(cmd);
  cmd.addHelpText("after", '\nExamples:\n  $ bertune encode --model bert-base-uncased "a gripping film" --json\n  $ bertune encode --model ./my-bert --engine tfjs --pooling mean "hello"');
  cmd.action(
    action(async (texts: string[], o: EncodeCliOptions) => {
      if (texts.length === 0) throw new BertuneError("no texts to encode", "pass texts as arguments");
      const log = logger(o.quiet || o.json);
      const { vectors } = await encode(o.model, texts, {
        engine: o.engine,
        pooling: o.pooling,
        maxLength: o.maxLength,
        revision: o.revision,
        offline: o.offline || undefined,
        threads: o.threads,
        device: o.device,
        log,
      });
      texts.forEach((text, i) => {
        const v = Array.from(vectors[i]);
        process.stdout.write(o.json ? JSON.stringify({ text, vector: v }) + "\n" : `${text}\t${v.map((x) => x.toFixed(6)).join(" ")}\n`);
      });
    }),
  );
  return cmd;
}
