import { readFileSync } from "node:fs";
import { Command } from "commander";
import { Classifier, type Prediction } from "../../classifier.js";
import { BertuneError } from "../../errors.js";
import { action, addModelOptions, logger, thresholdArg, verboseLogger, type ModelCliOptions } from "../common.js";

interface PredictCliOptions extends ModelCliOptions {
  file?: string;
  json?: boolean;
  threshold?: number;
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

/** One text per line, blank lines included (an empty text), so outputs line up with inputs; a final line end ends the last line. */
function lines(text: string): string[] {
  if (text === "") return [];
  const all = text.split(/\r?\n/).map((l) => l.trim());
  if (/\n$/.test(text)) all.pop();
  return all;
}

/**
 * One tab-separated line: single-label "label, score, every probability, text"; multi-label the
 * predicted labels (comma-separated, "-" for none) in place of the label; regression the value(s).
 */
function formatPrediction(p: Prediction): string {
  const text = p.textPair === undefined ? p.text : `${p.text}\t${p.textPair}`;
  if (p.problemType === "regression") {
    const names = Object.keys(p.values);
    const values = names.length === 1 ? p.value.toFixed(4) : names.map((k) => `${k}=${p.values[k].toFixed(4)}`).join(" ");
    return `${values}\t${text}`;
  }
  const probs = Object.entries(p.probabilities).map(([k, v]) => `${k}=${v.toFixed(4)}`).join(" ");
  const label = p.labels !== undefined ? (p.labels.length ? p.labels.join(",") : "-") : p.label;
  return `${label}\t${p.score.toFixed(4)}\t${probs}\t${text}`;
}

export function predictCommand(): Command {
  const cmd = new Command("predict")
    .description("classify texts with a trained run: label, score and the probability of every label (multi-label: every label over the threshold; regression: the value)")
    .argument("<run>", "run folder written by `bertune train --output`")
    .argument("[texts...]", "texts to classify (default: one per line from --file or standard input)")
    .option("-f, --file <path>", "read texts from a file, one per line (- for standard input); one output line per input line, an empty line is an empty text")
    .option("--threshold <p>", "multi-label runs: predict every label whose sigmoid reaches P (default: the run's, 0.5 unless trained with --threshold)", thresholdArg)
    .option("--json", "print one JSON object per text", false);
  addModelOptions(cmd);
  cmd.addHelpText(
    "after",
    '\nExamples:\n  $ bertune predict runs/sst2 "a gripping, beautifully acted film"\n  $ cat reviews.txt | bertune predict runs/sst2 --json',
  );
  cmd.action(
    action(async (runDir: string, texts: string[], o: PredictCliOptions) => {
      let inputs = texts;
      if (o.file) {
        let content: string;
        try {
          content = o.file === "-" ? await readStdin() : readFileSync(o.file, "utf8");
        } catch {
          throw new BertuneError(`cannot read ${o.file}`, "check the path");
        }
        inputs = inputs.concat(lines(content));
      } else if (inputs.length === 0) {
        if (process.stdin.isTTY) throw new BertuneError("no texts to classify", 'pass texts as arguments, --file FILE, or pipe them in: echo "great film" | bertune predict RUN');
        inputs = lines(await readStdin());
      }
      if (inputs.length === 0) throw new BertuneError("no texts to classify", "the input was empty");
      verboseLogger(o)(`run ${runDir}: ${inputs.length} text${inputs.length === 1 ? "" : "s"} to classify`);
      const classifier = await Classifier.load(runDir, { revision: o.revision, offline: o.offline || undefined, threads: o.threads, device: o.device, log: logger(o.quiet || o.json) });
      try {
        if (o.threshold !== undefined) classifier.setThreshold(o.threshold);
        const predictions = await classifier.predict(inputs);
        for (const p of predictions) process.stdout.write((o.json ? JSON.stringify(p) : formatPrediction(p)) + "\n");
      } finally {
        await classifier.close();
      }
    }),
  );
  return cmd;
}
