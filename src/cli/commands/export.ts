import { Command } from "commander";
import { exportRun, type ExportResult } from "../../run/export.js";
import { action, logger } from "../common.js";

interface ExportCliOptions {
  quantize?: boolean;
  revision?: string;
  offline?: boolean;
  json?: boolean;
  quiet?: boolean;
}

function formatSize(bytes: number): string {
  return bytes >= 1e6 ? `${(bytes / 1e6).toFixed(1)} MB` : `${(bytes / 1e3).toFixed(1)} kB`;
}

/** One line per written graph: path, size, time to write. */
export function logExport(result: ExportResult, log: (line: string) => void): void {
  for (const f of result.files) log(`wrote ${f.path} (${formatSize(f.bytes)}, ${f.seconds.toFixed(1)} s)`);
}

export function exportCommand(): Command {
  const cmd = new Command("export")
    .description("write a run as ONNX for transformers.js (Node and browsers) and onnxruntime: RUN/onnx/model.onnx, output logits")
    .argument("<run>", "run folder written by `bertune train --output`")
    .option("--quantize", "also write onnx/model_quantized.onnx: int8 weights, dynamic quantisation (transformers.js's default in browsers)", false)
    .option("--revision <rev>", "a frozen run's base model revision (default: the one it was trained on)")
    .option("--offline", "use only the local Hugging Face cache for a frozen run's base model (same as HF_HUB_OFFLINE=1)", false)
    .option("--json", "print the written files as JSON", false)
    .option("-q, --quiet", "no log lines", false);
  cmd.addHelpText(
    "after",
    `
A frozen run's graph is its base encoder, its pooling and its head; a full run's is its own weights.
The run folder then loads in transformers.js: pipeline("text-classification", "runs/sst2").

Examples:
  $ bertune export runs/sst2 --quantize
  $ bertune train --model bert-base-uncased --dataset sst2 --output runs/sst2 --export-onnx`,
  );
  cmd.action(
    action(async (runDir: string, o: ExportCliOptions) => {
      const log = logger(o.quiet || o.json);
      const result = await exportRun(runDir, { quantize: o.quantize, revision: o.revision, offline: o.offline || undefined, log });
      logExport(result, log);
      if (o.json) process.stdout.write(JSON.stringify(result) + "\n");
    }),
  );
  return cmd;
}
