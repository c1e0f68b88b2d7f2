/**
 * The model card (README.md) pushed with a run: YAML metadata the Hub reads (base model, library, task, data set,
 * metrics, model-index with the evaluation results) and a Markdown body saying what was trained, how, how well,
 * and how to use the weights from bertune and from Python.
 *
 * A frozen run holds only the classification head, so `from_pretrained(repo)` alone would give an encoder with
 * random weights: its card says `library_name: bertune` (not transformers, so the Hub offers no widget that
 * would silently run such a model) and shows how to put the head on the base model. A full run is a complete
 * BertForSequenceClassification: `library_name: transformers`.
 */
import { basename } from "node:path";
import { toYaml, type YamlValue } from "./yaml.js";

/** What the card is made from: the run folder's JSON files, read by the caller. */
export interface CardInput {
  /** The target repo id, `user/name`. */
  repo: string;
  config: Record<string, unknown>;
  trainingArgs?: Record<string, unknown>;
  trainerState?: { log_history?: Record<string, unknown>[] } & Record<string, unknown>;
  evalResults?: Record<string, unknown>;
  /** The data set: its display name and, when it lives on the Hub, its repo id and config; `bundled` for bertune's own copy. */
  dataset?: { name: string; hubRepo?: string; config?: string; bundled?: boolean };
  /** Files uploaded with the card. */
  files: string[];
  bertuneVersion: string;
}

type LogEntry = Record<string, unknown>;

const num = (v: unknown): number | undefined => (typeof v === "number" && Number.isFinite(v) ? v : undefined);
const str = (v: unknown): string | undefined => (typeof v === "string" ? v : undefined);
/** Markdown table cell / inline text without table breaks. */
const cell = (s: string) => s.replace(/\\/g, "\\\\").replace(/\|/g, "\\|").replace(/\n/g, " ");
/** A Python string literal. */
const py = (s: string) => JSON.stringify(s);

function fmt(v: number): string {
  if (Number.isInteger(v)) return String(v);
  return Math.abs(v) < 1e-3 ? v.toExponential(2) : v.toFixed(4);
}

/** A Hub id (org/name or a bare legacy name), as opposed to a local folder path. */
function isHubId(id: string): boolean {
  return /^[\w.-]+(\/[\w.-]+)?$/.test(id) && !id.startsWith(".");
}

function labels(config: Record<string, unknown>): string[] {
  const map = (config.id2label ?? {}) as Record<string, unknown>;
  return Object.entries(map)
    .sort(([a], [b]) => Number(a) - Number(b))
    .map(([, v]) => String(v));
}

/** Whether the upload carries the run's ONNX export (bertune export). */
function hasOnnx(input: CardInput): boolean {
  return input.files.includes("onnx/model.onnx");
}

/** The transformers.js snippet, in Node or a browser, for a run pushed with its ONNX export. */
function transformersJs(input: CardInput): string[] {
  const quantized = input.files.includes("onnx/model_quantized.onnx");
  return [
    "With transformers.js, in Node or in the browser (the graph in `onnx/` holds the encoder, the pooling and the head):",
    "",
    "```js",
    'import { pipeline } from "@huggingface/transformers";',
    "",
    quantized
      ? `const classifier = await pipeline("text-classification", ${py(input.repo)}, { dtype: "q8" }); // or "fp32" for onnx/model.onnx`
      : `const classifier = await pipeline("text-classification", ${py(input.repo)}, { dtype: "fp32" });`,
    'console.log(await classifier("a gripping, beautifully acted film"));',
    "```",
    "",
  ];
}

function metadata(input: CardInput, full: boolean, base: string | undefined): { [key: string]: YamlValue } {
  const meta: { [key: string]: YamlValue } = {};
  if (base) {
    meta.base_model = base;
    // A head alone needs the base model's weights, as an adapter does; a full run is a fine-tune.
    meta.base_model_relation = full ? "finetune" : "adapter";
  }
  const onnx = hasOnnx(input);
  // A frozen run's export is a complete model, for transformers.js; its safetensors alone is only a head.
  meta.library_name = full ? "transformers" : onnx ? "transformers.js" : "bertune";
  meta.pipeline_tag = "text-classification";
  meta.tags = ["bertune", "text-classification", full ? "full-fine-tuning" : "frozen-backbone", ...(onnx ? ["onnx", "transformers.js"] : [])];
  if (input.dataset?.hubRepo) meta.datasets = [input.dataset.hubRepo];
  meta.metrics = ["accuracy", "f1"];
  const acc = num(input.evalResults?.eval_accuracy);
  const f1 = num(input.evalResults?.eval_macro_f1);
  if (acc !== undefined || f1 !== undefined) {
    const metrics: YamlValue[] = [];
    if (acc !== undefined) metrics.push({ type: "accuracy", value: acc, name: "Accuracy" });
    if (f1 !== undefined) metrics.push({ type: "f1", value: f1, name: "Macro F1", args: { average: "macro" } });
    const dataset: { [key: string]: YamlValue } = {
      name: input.dataset?.name ?? "unknown",
      type: input.dataset?.hubRepo ?? input.dataset?.name ?? "unknown",
    };
    if (input.dataset?.config) dataset.config = input.dataset.config;
    dataset.split = str(input.evalResults?.eval_split) ?? "validation";
    meta["model-index"] = [
      {
        name: input.repo.split("/").at(-1) ?? input.repo,
        results: [{ task: { type: "text-classification", name: "Text Classification" }, dataset, metrics }],
      },
    ];
  }
  return meta;
}

/** Hyperparameters from training_args.json, in the Trainer card's words; local paths are left out. */
function hyperparameters(args: Record<string, unknown> | undefined): string[] {
  if (!args) return ["- (training_args.json was not found in the run)"];
  const out: string[] = [];
  const add = (name: string, v: unknown) => {
    if (v === undefined || v === null) return;
    out.push(`- ${name}: ${String(v)}`);
  };
  add("learning_rate", args.learning_rate);
  add("train_batch_size", args.per_device_train_batch_size);
  add("eval_batch_size", args.per_device_eval_batch_size);
  add("seed", args.seed);
  if (args.adam_beta1 !== undefined) {
    add("optimizer", `AdamW (torch) with betas=(${args.adam_beta1}, ${args.adam_beta2}) and epsilon=${args.adam_epsilon}, weight decay ${args.weight_decay ?? 0} (not on biases)`);
  }
  add("lr_scheduler_type", args.lr_scheduler_type);
  if (num(args.warmup_steps)) add("lr_scheduler_warmup_steps", args.warmup_steps);
  else if (num(args.warmup_ratio)) add("lr_scheduler_warmup_ratio", args.warmup_ratio);
  // As transformers' model card: max_steps, when set, instead of the epochs it overrides.
  if (typeof args.max_steps === "number" && args.max_steps > 0) add("training_steps", args.max_steps);
  else add("num_epochs", args.num_train_epochs);
  add("max_grad_norm", args.max_grad_norm);
  add("max_length", args.max_length);
  add("pooling", args.pooling);
  const shown = new Set([
    "learning_rate", "per_device_train_batch_size", "per_device_eval_batch_size", "seed", "adam_beta1", "adam_beta2",
    "adam_epsilon", "weight_decay", "lr_scheduler_type", "warmup_steps", "warmup_ratio", "num_train_epochs", "max_steps",
    "max_grad_norm", "max_length", "pooling", "optim",
    // where things were on the training machine: not for a public card
    "output_dir", "dataset", "dataset_spec", "dataset_source", "dataset_options", "device",
  ]);
  for (const [k, v] of Object.entries(args)) {
    if (shown.has(k) || v === null || typeof v === "object") continue;
    if (typeof v === "string" && (v.startsWith("/") || /^[A-Za-z]:\\/.test(v) || v.startsWith("~"))) continue;
    add(k, v);
  }
  return out;
}

/** The Trainer card's results table: one row per evaluation, with the last training loss logged before it. */
function resultsTable(history: LogEntry[] | undefined): string[] {
  const evals = (history ?? []).filter((e) => num(e.eval_accuracy) !== undefined || num(e.eval_loss) !== undefined);
  if (evals.length === 0) return ["No evaluation was logged during training."];
  const rows = ["| Training Loss | Epoch | Step | Validation Loss | Accuracy | Macro F1 |", "|:---:|:---:|:---:|:---:|:---:|:---:|"];
  let lastStep = -1;
  for (const e of evals) {
    const step = num(e.step) ?? 0;
    const losses = (history ?? []).filter((l) => num(l.loss) !== undefined && (num(l.step) ?? 0) <= step && (num(l.step) ?? 0) > lastStep);
    const loss = losses.length > 0 ? fmt(num(losses.at(-1)!.loss)!) : "No log";
    const show = (v: unknown) => (num(v) !== undefined ? fmt(num(v)!) : "-");
    rows.push(`| ${loss} | ${show(e.epoch)} | ${step} | ${show(e.eval_loss)} | ${show(e.eval_accuracy)} | ${show(e.eval_macro_f1)} |`);
    lastStep = step;
  }
  return rows;
}

function pythonFrozen(input: CardInput, base: string, revision: string | undefined, names: string[], pooling: string, maxLength: number): string[] {
  const rev = revision ? `, revision=${py(revision)}` : "";
  const id2label = `{${names.map((n, i) => `${i}: ${py(n)}`).join(", ")}}`;
  const common = [
    "from huggingface_hub import hf_hub_download",
    "from safetensors.torch import load_file",
  ];
  if (pooling === "pooler") {
    return [
      "```python",
      ...common,
      "from transformers import AutoModelForSequenceClassification, AutoTokenizer",
      "",
      `base = ${py(base)}`,
      `id2label = ${id2label}`,
      "model = AutoModelForSequenceClassification.from_pretrained(",
      `    base${rev}, id2label=id2label, label2id={v: k for k, v in id2label.items()})`,
      `model.classifier.load_state_dict(load_file(hf_hub_download(${py(input.repo)}, "model.safetensors")), strict=True)`,
      "model.eval()",
      `tokenizer = AutoTokenizer.from_pretrained(base${rev})`,
      "",
      `inputs = tokenizer(["a gripping, beautifully acted film"], truncation=True, max_length=${maxLength}, return_tensors="pt")`,
      "probs = model(**inputs).logits.softmax(-1)",
      "print(id2label[int(probs.argmax(-1))], probs.tolist())",
      "```",
    ];
  }
  const features =
    pooling === "cls"
      ? ["features = hidden[:, 0]  # the [CLS] token's last hidden state"]
      : ["mask = inputs[\"attention_mask\"].unsqueeze(-1).float()", "features = (hidden * mask).sum(1) / mask.sum(1)  # mean over the real tokens"];
  return [
    "```python",
    "import torch",
    ...common,
    "from transformers import AutoModel, AutoTokenizer",
    "",
    `base = ${py(base)}`,
    `id2label = ${id2label}`,
    `encoder = AutoModel.from_pretrained(base${rev}).eval()`,
    `tokenizer = AutoTokenizer.from_pretrained(base${rev})`,
    `head = load_file(hf_hub_download(${py(input.repo)}, "model.safetensors"))`,
    "",
    `inputs = tokenizer(["a gripping, beautifully acted film"], truncation=True, max_length=${maxLength}, return_tensors="pt")`,
    "with torch.no_grad():",
    "    hidden = encoder(**inputs).last_hidden_state",
    ...features.map((l) => `    ${l}`),
    '    logits = features @ head["classifier.weight"].T + head["classifier.bias"]',
    "probs = logits.softmax(-1)",
    "print(id2label[int(probs.argmax(-1))], probs.tolist())",
    "```",
  ];
}

/** The whole README.md: `---`, the YAML metadata, `---`, the Markdown body. */
export function buildModelCard(input: CardInput): string {
  const { config } = input;
  const full = config.bertune_mode === "full";
  const baseRaw = str(config.base_model);
  const base = baseRaw && isHubId(baseRaw) ? baseRaw : undefined;
  const baseRevision = str(config.base_model_revision);
  const revision = baseRevision && /^[0-9a-f]{40}$/.test(baseRevision) ? baseRevision : undefined;
  const names = labels(config);
  const pooling = str(config.pooling) ?? "pooler";
  const maxLength = num(config.max_length) ?? 128;
  const name = input.repo.split("/").at(-1) ?? input.repo;
  const baseText = base
    ? `[${base}](/${base})${revision ? ` (revision \`${revision.slice(0, 12)}\`)` : ""}`
    : `a local model (\`${cell(basename(baseRaw ?? "unknown"))}\`)`;
  const dataText = input.dataset
    ? input.dataset.hubRepo
      ? `[${input.dataset.hubRepo}](/datasets/${input.dataset.hubRepo})${input.dataset.config ? ` (configuration \`${input.dataset.config}\`)` : ""}${input.dataset.bundled ? ` (bertune's bundled copy \`${cell(input.dataset.name)}\`; its SOURCE.md says how it differs from the Hub's)` : ""}`
      : `\`${cell(input.dataset.name)}\``
    : "an unrecorded data set";

  const body: string[] = [`# ${name}`, ""];
  body.push(
    full
      ? `This model is ${baseText} fine-tuned end to end for text classification on ${dataText} with bertune (the Hugging Face fine-tuning workflow on Node.js). \`model.safetensors\` holds the whole \`BertForSequenceClassification\`.`
      : `This repository holds a text classification head trained with bertune (the Hugging Face fine-tuning workflow on Node.js) on the frozen ${baseText} encoder, on ${dataText}. \`model.safetensors\` holds the head alone (\`classifier.weight\`, \`classifier.bias\`, as \`BertForSequenceClassification\` names them): the encoder's weights are the base model's, unchanged.`,
    "",
    "## Model description",
    "",
    `- Base model: ${baseText}`,
    `- Mode: ${full ? "full fine-tuning (every weight trained)" : "frozen backbone (feature extraction: only the head was trained)"}`,
    `- Head input: ${pooling === "pooler" ? "BERT's pooler output (tanh dense layer on [CLS]), as in `BertForSequenceClassification`" : pooling === "cls" ? "the [CLS] token's last hidden state" : "the mean of the last hidden states over the real tokens"}`,
    `- Maximum input length: ${maxLength} tokens`,
    "",
    "| id | label |",
    "|---:|:---|",
    ...names.map((n, i) => `| ${i} | ${cell(n)} |`),
    "",
    "## Evaluation",
    "",
  );
  const r = input.evalResults;
  if (r) {
    const split = str(r.eval_split) ?? "validation";
    const rows: [string, unknown][] = [
      ["Accuracy", r.eval_accuracy],
      ["Macro F1", r.eval_macro_f1],
      ["Macro precision", r.eval_macro_precision],
      ["Macro recall", r.eval_macro_recall],
      ["Loss", r.eval_loss],
    ];
    body.push(
      `On the ${cell(split)} split${num(r.eval_samples) !== undefined ? ` (${r.eval_samples} examples)` : ""} of ${dataText}:`,
      "",
      "| metric | value |",
      "|:---|---:|",
      ...rows.filter(([, v]) => num(v) !== undefined).map(([k, v]) => `| ${k} | ${fmt(num(v)!)} |`),
      "",
    );
  } else body.push("This run was pushed without evaluation results.", "");

  body.push("## Training procedure", "", "### Training hyperparameters", "", ...hyperparameters(input.trainingArgs), "");
  body.push("### Training results", "", ...resultsTable(input.trainerState?.log_history), "");

  body.push("## How to use", "", "With bertune:", "", "```bash", `bertune download ${input.repo} --local-dir ${name}`, `bertune predict ${name} "a gripping, beautifully acted film"`, "```", "");
  if (hasOnnx(input)) body.push(...transformersJs(input));
  body.push("With Python `transformers`:", "");
  if (full) {
    // The tokenizer ships with a full run; without it, the base model's is the one training used.
    const tokenizerFrom = input.files.includes("tokenizer.json") ? input.repo : (base ?? "path/to/the/base/model");
    body.push(
      "```python",
      "from transformers import AutoModelForSequenceClassification, AutoTokenizer, pipeline",
      "",
      `model = AutoModelForSequenceClassification.from_pretrained(${py(input.repo)})`,
      `tokenizer = AutoTokenizer.from_pretrained(${py(tokenizerFrom)}${tokenizerFrom === base && revision ? `, revision=${py(revision)}` : ""})`,
      'classifier = pipeline("text-classification", model=model, tokenizer=tokenizer)',
      'print(classifier("a gripping, beautifully acted film"))',
      "```",
      "",
    );
  } else if (base) {
    body.push(...pythonFrozen(input, base, revision, names, pooling, maxLength), "");
  } else {
    body.push(
      "The base model was a local folder: load it in place of `base` below.",
      "",
      ...pythonFrozen(input, "path/to/the/base/model", undefined, names, pooling, maxLength),
      "",
    );
  }
  body.push("## Files", "", ...[...input.files, "README.md"].sort().map((f) => `- \`${f}\``), "");
  body.push("## Framework versions", "", `- bertune ${input.bertuneVersion}`, `- Node.js ${process.versions.node}`, "");

  return `---\n${toYaml(metadata(input, full, base))}---\n\n${body.join("\n")}`;
}
