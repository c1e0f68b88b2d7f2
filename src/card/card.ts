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
import type { ProblemType } from "../problem-type.js";
import { cardMetrics, cardProblemType, DEFAULT_CARD_METRICS, taskTag, taskWords } from "./task.js";
import { toYaml, type YamlValue } from "./yaml.js";

/** What the card is made from: the run folder's JSON files, read by the caller. */
export interface CardInput {
  /** The target repo id, `user/name`. */
  repo: string;
  config: Record<string, unknown>;
  trainingArgs?: Record<string, unknown>;
  trainerState?: { log_history?: Record<string, unknown>[] } & Record<string, unknown>;
  evalResults?: Record<string, unknown>;
  /** eval_report.json (per-class, per-label or per-target scores), when the run has it. */
  evalReport?: Record<string, unknown>;
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

/** What the card's examples feed the model: one text, or a pair for a run trained on text pairs. */
interface ExampleInput {
  text: string;
  pair?: string;
}

function exampleInput(input: CardInput): ExampleInput {
  const options = input.trainingArgs?.dataset_options as Record<string, unknown> | undefined;
  if (typeof options?.text_pair_column === "string") return { text: "A man is playing a guitar.", pair: "A man plays the guitar." };
  return { text: "a gripping, beautifully acted film" };
}

/** The multi-label decision threshold the run was trained and evaluated with. */
function threshold(input: CardInput): number {
  return num(input.config.threshold) ?? num(input.trainingArgs?.threshold) ?? 0.5;
}

/** The transformers.js snippet, in Node or a browser, for a run pushed with its ONNX export. */
function transformersJs(input: CardInput, problemType: ProblemType, example: ExampleInput): string[] {
  const quantized = input.files.includes("onnx/model_quantized.onnx");
  const dtype = quantized ? `{ dtype: "q8" }` : `{ dtype: "fp32" }`;
  const dtypeNote = quantized ? ' // or "fp32" for onnx/model.onnx' : "";
  const intro = "With transformers.js, in Node or in the browser (the graph in `onnx/` holds the encoder, the pooling and the head):";
  // The text-classification pipeline takes single texts and applies a softmax (a sigmoid for multi-label):
  // a regression run's raw outputs and text pairs need the model and the tokenizer themselves.
  if (problemType === "regression" || example.pair !== undefined) {
    const call = example.pair !== undefined ? `tokenizer(${py(example.text)}, { text_pair: ${py(example.pair)}, truncation: true })` : `tokenizer(${py(example.text)}, { truncation: true })`;
    const out =
      problemType === "regression"
        ? ["console.log(logits.tolist()[0]); // the predicted value(s): the raw outputs, no softmax or sigmoid"]
        : problemType === "multi_label_classification"
          ? [`const probs = logits.sigmoid().tolist()[0];`, `console.log(probs.map((p, i) => [model.config.id2label[i], p]).filter(([, p]) => p >= ${threshold(input)}));`]
          : [`const probs = logits.softmax(-1).tolist()[0];`, "console.log(probs.map((p, i) => [model.config.id2label[i], p]));"];
    return [
      intro,
      "",
      "```js",
      'import { AutoModelForSequenceClassification, AutoTokenizer } from "@huggingface/transformers";',
      "",
      `const tokenizer = await AutoTokenizer.from_pretrained(${py(input.repo)});`,
      `const model = await AutoModelForSequenceClassification.from_pretrained(${py(input.repo)}, ${dtype});${dtypeNote}`,
      `const { logits } = await model(${call});`,
      ...out,
      "```",
      "",
    ];
  }
  const lines =
    problemType === "multi_label_classification"
      ? [
          `const scores = await classifier(${py(example.text)}, { top_k: null }); // every label's sigmoid (problem_type is multi_label_classification)`,
          `console.log(scores.filter((s) => s.score >= ${threshold(input)})); // the labels at the run's threshold`,
        ]
      : [`console.log(await classifier(${py(example.text)}));`];
  return [
    intro,
    "",
    "```js",
    'import { pipeline } from "@huggingface/transformers";',
    "",
    `const classifier = await pipeline("text-classification", ${py(input.repo)}, ${dtype});${dtypeNote}`,
    ...lines,
    "```",
    "",
  ];
}

/** model-index's metrics and the top-level metrics list, from eval_results.json, for the run's problem type. */
function indexMetrics(input: CardInput, problemType: ProblemType, k: number): YamlValue[] {
  const out: YamlValue[] = [];
  for (const m of cardMetrics(problemType, k)) {
    if (m.tableOnly) continue;
    // Undefined values (a NaN correlation, written as null) are left out: model-index needs numbers.
    const value = num(input.evalResults?.[`eval_${m.key}`]);
    if (value === undefined) continue;
    out.push({ type: m.type, value, name: m.name, ...(m.args ? { args: m.args } : {}) });
  }
  return out;
}

function metadata(input: CardInput, full: boolean, base: string | undefined, problemType: ProblemType, k: number): { [key: string]: YamlValue } {
  const meta: { [key: string]: YamlValue } = {};
  if (base) {
    meta.base_model = base;
    // A head alone needs the base model's weights, as an adapter does; a full run is a fine-tune.
    meta.base_model_relation = full ? "finetune" : "adapter";
  }
  const onnx = hasOnnx(input);
  // A frozen run's export is a complete model, for transformers.js; its safetensors alone is only a head.
  meta.library_name = full ? "transformers" : onnx ? "transformers.js" : "bertune";
  // Every problem type of *ForSequenceClassification is text-classification on the Hub (STS-B regression models too).
  meta.pipeline_tag = "text-classification";
  const tag = taskTag(problemType);
  meta.tags = ["bertune", "text-classification", ...(tag ? [tag] : []), full ? "full-fine-tuning" : "frozen-backbone", ...(onnx ? ["onnx", "transformers.js"] : [])];
  if (input.dataset?.hubRepo) meta.datasets = [input.dataset.hubRepo];
  const metrics = indexMetrics(input, problemType, k);
  const types = metrics.map((m) => (m as { type: string }).type);
  meta.metrics = types.length ? [...new Set(types)] : DEFAULT_CARD_METRICS[problemType];
  if (metrics.length) {
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

/** The Trainer card's results table: one row per evaluation, with the last training loss logged before it; a column per metric of the problem type that was logged. */
function resultsTable(history: LogEntry[] | undefined, problemType: ProblemType, k: number): string[] {
  const metrics = cardMetrics(problemType, k).filter((m) => m.column !== undefined);
  const evals = (history ?? []).filter((e) => num(e.eval_loss) !== undefined || metrics.some((m) => num(e[`eval_${m.key}`]) !== undefined));
  if (evals.length === 0) return ["No evaluation was logged during training."];
  const columns = metrics.filter((m) => evals.some((e) => num(e[`eval_${m.key}`]) !== undefined));
  const header = ["Training Loss", "Epoch", "Step", "Validation Loss", ...columns.map((m) => m.column!)];
  const rows = [`| ${header.join(" | ")} |`, `|${header.map(() => ":---:").join("|")}|`];
  let lastStep = -1;
  for (const e of evals) {
    const step = num(e.step) ?? 0;
    const losses = (history ?? []).filter((l) => num(l.loss) !== undefined && (num(l.step) ?? 0) <= step && (num(l.step) ?? 0) > lastStep);
    const loss = losses.length > 0 ? fmt(num(losses.at(-1)!.loss)!) : "No log";
    const show = (v: unknown) => (num(v) !== undefined ? fmt(num(v)!) : "-");
    rows.push(`| ${[loss, show(e.epoch), String(step), show(e.eval_loss), ...columns.map((m) => show(e[`eval_${m.key}`]))].join(" | ")} |`);
    lastStep = step;
  }
  return rows;
}

/** The Python lines that turn `logits` (1 × K) into the run's answer, by problem type. */
function pythonOutput(problemType: ProblemType, input: CardInput, names: string[]): string[] {
  if (problemType === "regression") {
    return names.length === 1
      ? ["print(logits[0, 0].item())  # the predicted value: the raw output, no softmax or sigmoid"]
      : [`print(dict(zip(${pyList(names)}, logits[0].tolist())))  # the predicted values: the raw outputs`];
  }
  if (problemType === "multi_label_classification") {
    return [
      "probs = logits.sigmoid()[0]  # one independent probability per label",
      `print([id2label[i] for i, p in enumerate(probs.tolist()) if p >= ${threshold(input)}])  # the labels at the run's threshold`,
    ];
  }
  return ["probs = logits.softmax(-1)", "print(id2label[int(probs.argmax(-1))], probs.tolist())"];
}

const pyList = (xs: string[]) => `[${xs.map(py).join(", ")}]`;

/** `tokenizer(...)` on the card's example, a text or a text pair. */
function pyTokenize(example: ExampleInput, maxLength: number): string {
  const texts = example.pair !== undefined ? `[${py(example.text)}], [${py(example.pair)}]` : `[${py(example.text)}]`;
  return `inputs = tokenizer(${texts}, truncation=True, max_length=${maxLength}, return_tensors="pt")`;
}

/** A full run in Python: the pipeline for classification, the raw outputs for regression. */
function pythonFull(input: CardInput, problemType: ProblemType, tokenizerLine: string, example: ExampleInput, names: string[], maxLength: number): string[] {
  const load = [`model = AutoModelForSequenceClassification.from_pretrained(${py(input.repo)})`, tokenizerLine];
  const pipelineInput = example.pair !== undefined ? `{"text": ${py(example.text)}, "text_pair": ${py(example.pair)}}` : py(example.text);
  if (problemType === "regression") {
    return [
      "```python",
      "import torch",
      "from transformers import AutoModelForSequenceClassification, AutoTokenizer",
      "",
      ...load,
      "model.eval()",
      "",
      pyTokenize(example, maxLength),
      "with torch.no_grad():",
      "    logits = model(**inputs).logits",
      // The text-classification pipeline would put a sigmoid (one target) or a softmax on these.
      ...pythonOutput(problemType, input, names),
      "```",
    ];
  }
  if (problemType === "multi_label_classification") {
    return [
      "```python",
      "from transformers import AutoModelForSequenceClassification, AutoTokenizer, pipeline",
      "",
      ...load,
      'classifier = pipeline("text-classification", model=model, tokenizer=tokenizer)',
      `scores = classifier([${pipelineInput}], top_k=None, function_to_apply="sigmoid")[0]  # every label's probability`,
      `print([s["label"] for s in scores if s["score"] >= ${threshold(input)}])  # the labels at the run's threshold`,
      "```",
    ];
  }
  return [
    "```python",
    "from transformers import AutoModelForSequenceClassification, AutoTokenizer, pipeline",
    "",
    ...load,
    'classifier = pipeline("text-classification", model=model, tokenizer=tokenizer)',
    `print(classifier(${pipelineInput}))`,
    "```",
  ];
}

function pythonFrozen(input: CardInput, base: string, revision: string | undefined, names: string[], pooling: string, maxLength: number, problemType: ProblemType, example: ExampleInput): string[] {
  const rev = revision ? `, revision=${py(revision)}` : "";
  const id2label = `{${names.map((n, i) => `${i}: ${py(n)}`).join(", ")}}`;
  const common = [
    "from huggingface_hub import hf_hub_download",
    "from safetensors.torch import load_file",
  ];
  // problem_type decides the loss transformers would train with; for inference it documents what the outputs are.
  const problem = problemType === "single_label_classification" ? "" : `, problem_type=${py(problemType)}`;
  if (pooling === "pooler") {
    return [
      "```python",
      "import torch",
      ...common,
      "from transformers import AutoModelForSequenceClassification, AutoTokenizer",
      "",
      `base = ${py(base)}`,
      `id2label = ${id2label}`,
      "model = AutoModelForSequenceClassification.from_pretrained(",
      `    base${rev}, id2label=id2label, label2id={v: k for k, v in id2label.items()}${problem})`,
      `model.classifier.load_state_dict(load_file(hf_hub_download(${py(input.repo)}, "model.safetensors")), strict=True)`,
      "model.eval()",
      `tokenizer = AutoTokenizer.from_pretrained(base${rev})`,
      "",
      pyTokenize(example, maxLength),
      "with torch.no_grad():",
      "    logits = model(**inputs).logits",
      ...pythonOutput(problemType, input, names),
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
    pyTokenize(example, maxLength),
    "with torch.no_grad():",
    "    hidden = encoder(**inputs).last_hidden_state",
    ...features.map((l) => `    ${l}`),
    '    logits = features @ head["classifier.weight"].T + head["classifier.bias"]',
    ...pythonOutput(problemType, input, names),
    "```",
  ];
}

const isObj = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === "object" && !Array.isArray(v);

/** eval_report.json's per-class (single-label), per-label (multi-label) or per-target (regression) rows, as a Markdown table. */
function detailTable(report: Record<string, unknown> | undefined, problemType: ProblemType): string[] {
  const rows = report?.[problemType === "regression" ? "perTarget" : problemType === "multi_label_classification" ? "perLabel" : "perClass"];
  if (!Array.isArray(rows) || rows.length === 0 || !rows.every(isObj)) return [];
  const show = (v: unknown) => (v === null ? "undefined" : num(v) !== undefined ? fmt(num(v)!) : "-");
  if (problemType === "regression") {
    // One target is the table above already.
    if (rows.length < 2) return [];
    return [
      "Per target:",
      "",
      "| target | MSE | RMSE | MAE | Pearson | Spearman | R-squared |",
      "|:---|---:|---:|---:|---:|---:|---:|",
      ...rows.map((t) => `| ${cell(String(t.name))} | ${["mse", "rmse", "mae", "pearson", "spearman", "r2"].map((k) => show(t[k])).join(" | ")} |`),
      "",
    ];
  }
  const what = problemType === "multi_label_classification" ? "label" : "class";
  return [
    `Per ${what}${problemType === "multi_label_classification" ? " (support: the examples where the label is true)" : ""}:`,
    "",
    `| ${what} | precision | recall | F1 | support |`,
    "|:---|---:|---:|---:|---:|",
    ...rows.map((c) => `| ${cell(String(c.label))} | ${["precision", "recall", "f1", "support"].map((k) => show(c[k])).join(" | ")} |`),
    "",
  ];
}

/** The Model description line that says what the outputs are. */
function taskLine(input: CardInput, problemType: ProblemType): string {
  if (problemType === "multi_label_classification") {
    return `- Task: multi-label classification (\`problem_type: multi_label_classification\`): an independent sigmoid per label; a label applies when its probability reaches ${threshold(input)}, the threshold the run was evaluated with`;
  }
  if (problemType === "regression") {
    const folded = input.config.normalize_targets === true || input.trainingArgs?.normalize_targets === true ? "; the target normalisation used in training is folded into the head's weights" : "";
    const what = input.config.id2label && labels(input.config).length > 1 ? `one value per target (${labels(input.config).length})` : "one value";
    return `- Task: regression (\`problem_type: regression\`), ${what}: the head's raw outputs are the predicted values, in the units of the training data's targets${folded}`;
  }
  return "- Task: single-label classification (a softmax over the labels)";
}

/** The whole README.md: `---`, the YAML metadata, `---`, the Markdown body. */
export function buildModelCard(input: CardInput): string {
  const { config } = input;
  const full = config.bertune_mode === "full";
  const problemType = cardProblemType(config);
  const baseRaw = str(config.base_model);
  const base = baseRaw && isHubId(baseRaw) ? baseRaw : undefined;
  const baseRevision = str(config.base_model_revision);
  const revision = baseRevision && /^[0-9a-f]{40}$/.test(baseRevision) ? baseRevision : undefined;
  const names = labels(config);
  const k = names.length;
  const pooling = str(config.pooling) ?? "pooler";
  const maxLength = num(config.max_length) ?? 128;
  const name = input.repo.split("/").at(-1) ?? input.repo;
  const example = exampleInput(input);
  const task = taskWords(problemType);
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
      ? `This model is ${baseText} fine-tuned end to end for ${task} on ${dataText} with bertune (the Hugging Face fine-tuning workflow on Node.js). \`model.safetensors\` holds the whole \`BertForSequenceClassification\`.`
      : `This repository holds a ${task} head trained with bertune (the Hugging Face fine-tuning workflow on Node.js) on the frozen ${baseText} encoder, on ${dataText}. \`model.safetensors\` holds the head alone (\`classifier.weight\`, \`classifier.bias\`, as \`BertForSequenceClassification\` names them): the encoder's weights are the base model's, unchanged.`,
    "",
    "## Model description",
    "",
    `- Base model: ${baseText}`,
    `- Mode: ${full ? "full fine-tuning (every weight trained)" : "frozen backbone (feature extraction: only the head was trained)"}`,
    taskLine(input, problemType),
    `- Head input: ${pooling === "pooler" ? "BERT's pooler output (tanh dense layer on [CLS]), as in `BertForSequenceClassification`" : pooling === "cls" ? "the [CLS] token's last hidden state" : "the mean of the last hidden states over the real tokens"}`,
    `- Maximum input length: ${maxLength} tokens${example.pair !== undefined ? " (a text pair, as [CLS] text [SEP] text_pair [SEP])" : ""}`,
    "",
    `| id | ${problemType === "regression" ? "target" : "label"} |`,
    "|---:|:---|",
    ...names.map((n, i) => `| ${i} | ${cell(n)} |`),
    "",
    "## Evaluation",
    "",
  );
  const r = input.evalResults;
  if (r) {
    const split = str(r.eval_split) ?? "validation";
    const rows: [string, unknown][] = cardMetrics(problemType, k).map((m) => [
      k === 2 && problemType === "single_label_classification" && ["f1", "precision", "recall"].includes(m.key) ? `${m.name} (class 1: ${cell(names[1])})` : m.name,
      r[`eval_${m.key}`],
    ]);
    // A regression run's loss is its MSE.
    if (problemType !== "regression") rows.push(["Loss", r.eval_loss]);
    body.push(
      `On the ${cell(split)} split${num(r.eval_samples) !== undefined ? ` (${r.eval_samples} examples)` : ""} of ${dataText}:`,
      "",
      "| metric | value |",
      "|:---|---:|",
      ...rows.filter(([, v]) => num(v) !== undefined || v === null).map(([m, v]) => `| ${m} | ${v === null ? "undefined" : fmt(num(v)!)} |`),
      "",
      ...detailTable(input.evalReport, problemType),
    );
  } else body.push("This run was pushed without evaluation results.", "");

  body.push("## Training procedure", "", "### Training hyperparameters", "", ...hyperparameters(input.trainingArgs), "");
  body.push("### Training results", "", ...resultsTable(input.trainerState?.log_history, problemType, k), "");

  body.push("## How to use", "", "With bertune:", "", "```bash", `bertune download ${input.repo} --local-dir ${name}`, `bertune predict ${name} "a gripping, beautifully acted film"`, "```", "");
  if (example.pair !== undefined) {
    body.push(
      "The run was trained on text pairs: the command line takes single texts, the library takes pairs:",
      "",
      "```js",
      'import { predict } from "bertune";',
      "",
      `console.log(await predict(${py(name)}, [{ text: ${py(example.text)}, textPair: ${py(example.pair)} }]));`,
      "```",
      "",
    );
  }
  if (hasOnnx(input)) body.push(...transformersJs(input, problemType, example));
  body.push("With Python `transformers`:", "");
  if (full) {
    // The tokenizer ships with a full run; without it, the base model's is the one training used.
    const tokenizerFrom = input.files.includes("tokenizer.json") ? input.repo : (base ?? "path/to/the/base/model");
    const tokenizerLine = `tokenizer = AutoTokenizer.from_pretrained(${py(tokenizerFrom)}${tokenizerFrom === base && revision ? `, revision=${py(revision)}` : ""})`;
    body.push(...pythonFull(input, problemType, tokenizerLine, example, names, maxLength), "");
  } else if (base) {
    body.push(...pythonFrozen(input, base, revision, names, pooling, maxLength, problemType, example), "");
  } else {
    body.push(
      "The base model was a local folder: load it in place of `base` below.",
      "",
      ...pythonFrozen(input, "path/to/the/base/model", undefined, names, pooling, maxLength, problemType, example),
      "",
    );
  }
  body.push("## Files", "", ...[...input.files, "README.md"].sort().map((f) => `- \`${f}\``), "");
  body.push("## Framework versions", "", `- bertune ${input.bertuneVersion}`, `- Node.js ${process.versions.node}`, "");

  return `---\n${toYaml(metadata(input, full, base, problemType, k))}---\n\n${body.join("\n")}`;
}
