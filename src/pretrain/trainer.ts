import { readFloat32, tf } from "../backend/tfjs.js";
import type { BertConfig } from "../bert/config.js";
import { BertForMaskedLM } from "../bert/masked-lm.js";
import { batchTensors } from "../bert/sequence-classifier.js";
import { isNoDecay } from "../bert/weights.js";
import { BertuneError } from "../errors.js";
import { crossEntropySum } from "../heads/mlm-head.js";
import { readSafetensors } from "../formats/safetensors.js";
import type { Tokenizer } from "../tokenizer/tokenizer.js";
import { AdamW, type ParamGroup } from "../train/adamw.js";
import { argsToJson, type TrainingArgs } from "../train/args.js";
import { streamSeed, STREAM_DROPOUT, STREAM_INIT } from "../train/seeds.js";
import { planSteps, runSteps, startingState } from "../train/step-loop.js";
import { round4, type TrainerState } from "../train/state.js";
import { silentProgress, type ProgressFactory } from "../util/progress.js";
import { Rng } from "../util/rng.js";
import { groupTexts, lineByLine, tokenCount } from "./blocks.js";
import { maskBatch, type CollatorOptions, type MaskedBatch, type MaskingVocab } from "./collator.js";
import type { PretrainText } from "./text.js";

/** The random streams of masking (train: one per micro-batch; evaluation: one, fixed). Apart from seeds.ts' 1–3. */
export const STREAM_MASK = 11;
export const STREAM_EVAL_MASK = 12;

/** run_mlm.py's data and collator arguments. */
export interface MlmArgs {
  /** DataCollatorForLanguageModeling's mlm_probability. */
  mlmProbability: number;
  wholeWordMask: boolean;
  /** One sequence per document instead of group_texts' blocks. */
  lineByLine: boolean;
  /** Tokens per sequence, [CLS] and [SEP] included (clamped to max_position_embeddings). */
  maxSeqLength: number;
  /** The held-out share when the data has no validation split (recorded; applied when the text is read). */
  validationSplitPercentage: number;
}

export const DEFAULT_MLM_ARGS: MlmArgs = { mlmProbability: 0.15, wholeWordMask: false, lineByLine: false, maxSeqLength: 128, validationSplitPercentage: 5 };

/** The MLM arguments as run_mlm.py names them (for training_args.json). */
export function mlmArgsToJson(m: MlmArgs): Record<string, unknown> {
  return {
    mlm_probability: m.mlmProbability,
    whole_word_mask: m.wholeWordMask,
    line_by_line: m.lineByLine,
    max_seq_length: m.maxSeqLength,
    validation_split_percentage: m.validationSplitPercentage,
  };
}

export interface PretrainOptions {
  config: BertConfig;
  tokenizer: Tokenizer;
  /** model.safetensors to start from (continued pretraining); undefined: from scratch (random init). */
  weights?: string;
  text: PretrainText;
  args: TrainingArgs;
  mlm: MlmArgs;
  /** Run folder for checkpoints; without it none are written. */
  outputDir?: string;
  progress?: ProgressFactory;
  log?: (line: string) => void;
  /** Aborting stops after the current optimizer step, with a checkpoint. */
  signal?: AbortSignal;
}

export interface MlmEvaluation {
  /** Mean cross-entropy per masked token. */
  loss: number;
  perplexity: number;
  /** Masked tokens scored. */
  maskedTokens: number;
  runtime: number;
}

export interface PretrainResult {
  model: BertForMaskedLM;
  state: TrainerState;
  /** The final evaluation (undefined without validation text). */
  eval?: MlmEvaluation;
  trainLoss: number;
  trainRuntime: number;
  trainSamples: number;
  evalSamples: number;
  trainSamplesPerSecond: number;
  /** Non-padding tokens through the model per second of training. */
  trainTokensPerSecond: number;
  trainTokens: number;
  stopped?: "interrupted";
  lastCheckpoint?: string;
}

/** What the collator needs of the tokenizer, checked against the model's vocabulary. */
export function maskingVocab(tokenizer: Tokenizer, config: BertConfig): MaskingVocab {
  const mask = tokenizer.maskTokenId;
  if (mask === undefined) throw new BertuneError("the tokenizer has no mask token", "masked-LM pretraining needs a tokenizer with [MASK] (any BERT tokenizer has one)");
  if (tokenizer.size > config.vocab_size) {
    throw new BertuneError(`the tokenizer has ${tokenizer.size} tokens but config.json's vocab_size is ${config.vocab_size}`, "set vocab_size in config.json to at least the tokenizer's size");
  }
  const tokens = tokenizer.idToToken();
  return {
    maskTokenId: mask,
    padTokenId: tokenizer.padTokenId,
    specialIds: new Set(tokenizer.specialIds),
    randomVocabSize: tokenizer.size,
    isContinuation: (id) => tokens[id]?.startsWith("##") ?? false,
  };
}

/** Tokenize documents and make the training sequences (group_texts blocks or line by line). */
export function makeSequences(docs: readonly string[], tokenizer: Tokenizer, mlm: MlmArgs, maxSeqLength: number, progress: ProgressFactory, label: string): Int32Array[] {
  const framing = tokenizer.clsSepIds;
  if (!framing) throw new BertuneError("the tokenizer adds no [CLS]/[SEP] around a sequence", "masked-LM pretraining here needs a BERT tokenizer (tokenizer.json with a BertProcessing or TemplateProcessing post-processor)");
  const bar = progress(label, docs.length, "doc");
  const ids: Int32Array[] = [];
  for (let i = 0; i < docs.length; i++) {
    ids.push(Int32Array.from(tokenizer.encodeRaw(docs[i])));
    if ((i + 1) % 256 === 0 || i === docs.length - 1) bar.tick(((i + 1) % 256) || 256);
  }
  bar.done();
  return mlm.lineByLine ? lineByLine(ids, maxSeqLength, framing) : groupTexts(ids, maxSeqLength, framing);
}

function collatorOptions(mlm: MlmArgs): CollatorOptions {
  return { mlmProbability: mlm.mlmProbability, wholeWordMask: mlm.wholeWordMask };
}

/** Parameter groups with the Trainer's rule: no weight decay on biases and LayerNorm weights. */
export function mlmParamGroups(vars: Map<string, tf.Variable>, weightDecay: number): ParamGroup[] {
  return [...vars].map(([name, v]) => ({ params: [v], weightDecay: isNoDecay(name) ? 0 : weightDecay }));
}

function inputsOf(b: MaskedBatch) {
  return batchTensors({ inputIds: b.inputIds, tokenTypeIds: b.tokenTypeIds, attentionMask: b.attentionMask });
}

/** Eval-mode masked-LM loss over fixed masked batches: the mean cross-entropy per masked token, and its exp. */
export async function evaluateMlm(model: BertForMaskedLM, batches: readonly MaskedBatch[]): Promise<MlmEvaluation> {
  const started = performance.now();
  let sum = 0;
  let count = 0;
  for (const b of batches) {
    if (b.positions.length === 0) continue;
    const total = tf.tidy(() => crossEntropySum(model.maskedLogits(inputsOf(b), b.positions), b.targets));
    sum += (await readFloat32(total))[0];
    total.dispose();
    count += b.positions.length;
  }
  const loss = count ? sum / count : NaN;
  return { loss, perplexity: Math.exp(loss), maskedTokens: count, runtime: (performance.now() - started) / 1000 };
}

/** The evaluation batches, masked once with a fixed seed so that every evaluation scores the same tokens. */
export function evalBatches(seqs: readonly Int32Array[], vocab: MaskingVocab, mlm: MlmArgs, seed: number, batchSize: number): MaskedBatch[] {
  const rng = new Rng(streamSeed(seed, STREAM_EVAL_MASK));
  const out: MaskedBatch[] = [];
  for (let i = 0; i < seqs.length; i += batchSize) out.push(maskBatch(seqs.slice(i, i + batchSize), vocab, rng, collatorOptions(mlm)));
  return out;
}

/** Build the model to pretrain: from a checkpoint (its MLM head when it has one) or at random. */
export function buildMaskedLm(config: BertConfig, weights: string | undefined, seed: number): BertForMaskedLM {
  const seeds = { encoder: streamSeed(seed, STREAM_INIT, 1), head: streamSeed(seed, STREAM_INIT, 2) };
  return weights === undefined ? BertForMaskedLM.random(config, seeds) : BertForMaskedLM.fromSafetensors(readSafetensors(weights), config, seeds);
}

/**
 * Masked-LM pretraining as run_mlm.py with the Trainer does it: BertForMaskedLM, the MLM collator
 * (fresh masks for every batch), AdamW with the Trainer's no-decay groups, the learning-rate schedule,
 * global-norm clipping, gradient accumulation, checkpoints, evaluation loss and perplexity. The data
 * order of each epoch, the masks and the dropout of each micro-batch derive from the seed and their
 * position, so a run resumed from a checkpoint takes exactly the steps of the uninterrupted run.
 */
export async function pretrainMlm(o: PretrainOptions): Promise<PretrainResult> {
  const { config: c, tokenizer, args, mlm } = o;
  const log = o.log ?? (() => {});
  const progress = o.progress ?? silentProgress;
  const maxSeqLength = Math.min(mlm.maxSeqLength, c.max_position_embeddings);
  if (maxSeqLength < mlm.maxSeqLength) log(`--max-seq-length ${mlm.maxSeqLength} exceeds the model's ${c.max_position_embeddings} positions: using ${maxSeqLength}`);
  const vocab = maskingVocab(tokenizer, c);

  const trainSeqs = makeSequences(o.text.train, tokenizer, mlm, maxSeqLength, progress, "tokenizing train");
  const validSeqs = o.text.validation.length ? makeSequences(o.text.validation, tokenizer, mlm, maxSeqLength, progress, "tokenizing validation") : [];
  if (trainSeqs.length === 0) throw new BertuneError("no training sequences", "give more text");
  log(
    `${mlm.lineByLine ? "line by line" : `grouped into blocks of ${maxSeqLength} tokens`}: ${trainSeqs.length} train sequences (${tokenCount(trainSeqs)} tokens), ${validSeqs.length} validation (${tokenCount(validSeqs)} tokens)`,
  );
  const evalSet = evalBatches(validSeqs, vocab, mlm, args.seed, args.perDeviceEvalBatchSize);

  const model = buildMaskedLm(c, args.fromScratch ? undefined : o.weights, args.seed);
  if (model.origin.encoder === "random") log(`initialised a new ${c.num_hidden_layers}-layer BertForMaskedLM (hidden ${c.hidden_size}, vocabulary ${c.vocab_size}) at random`);
  else log(`encoder from the checkpoint; MLM head ${model.origin.head === "checkpoint" ? "from the checkpoint (cls.predictions.*)" : "initialised (the checkpoint has none)"}${model.origin.poolerInitialised ? "; the checkpoint has no pooler: initialised" : ""}`);
  const vars = model.namedVariables();
  const trainable = [...vars.values()];
  const optimizer = new AdamW(mlmParamGroups(vars, args.weightDecay), { beta1: args.adamBeta1, beta2: args.adamBeta2, epsilon: args.adamEpsilon });

  const plan = planSteps(args, trainSeqs.length);
  const trainingArgsJson = { ...argsToJson(args, o.outputDir), ...mlmArgsToJson(mlm), metric_for_best_model: "loss", greater_is_better: false };

  const state = startingState({ args, outputDir: o.outputDir, plan, hint: "resume with the same text, epochs (or --max-steps), batch size, accumulation and --max-seq-length", model, optimizer, vars, log });

  const logEval = async () => {
    const e = await evaluateMlm(model, evalSet);
    state.log_history.push({ epoch: round4(state.epoch), step: state.global_step, eval_loss: e.loss, eval_perplexity: e.perplexity, eval_runtime: e.runtime });
    const improved = state.best_metric === null || e.loss < state.best_metric;
    if (improved) state.best_metric = e.loss;
    log(`step ${state.global_step} (epoch ${round4(state.epoch)}): eval_loss ${e.loss.toFixed(4)}  perplexity ${e.perplexity.toFixed(2)}`);
    return improved;
  };

  const loop = await runSteps({
    args,
    plan,
    state,
    optimizer,
    vars,
    label: "pretraining",
    progress,
    signal: o.signal,
    nanHint: "lower --learning-rate (or add --warmup-ratio), or check the text",
    trainable: () => trainable,
    lengths: trainSeqs.map((q) => q.length),
    microBatch: (rowIndices, micro) => {
      const rows = rowIndices.map((i) => trainSeqs[i]);
      // Fresh masks for every micro-batch, from its own stream.
      const batch = maskBatch(rows, vocab, new Rng(streamSeed(args.seed, STREAM_MASK, micro)), collatorOptions(mlm));
      const dropoutSeed = streamSeed(args.seed, STREAM_DROPOUT, micro);
      return {
        tokens: tokenCount(rows),
        loss: () => model.loss(inputsOf(batch), { positions: batch.positions, labels: batch.targets }, dropoutSeed),
      };
    },
    evaluate: evalSet.length > 0 ? logEval : undefined,
    checkpoints: o.outputDir ? { outputDir: o.outputDir, weights: () => model.toTensors(), trainingArgs: trainingArgsJson } : undefined,
  });
  optimizer.dispose();
  const final = evalSet.length > 0 && !loop.stopped ? await evaluateMlm(model, evalSet) : undefined;
  return {
    model,
    state,
    eval: final,
    trainLoss: loop.trainLoss,
    trainRuntime: loop.runtime,
    trainSamples: trainSeqs.length,
    evalSamples: validSeqs.length,
    trainSamplesPerSecond: loop.samplesPerSecond,
    trainTokensPerSecond: loop.tokensPerSecond,
    trainTokens: tokenCount(trainSeqs),
    stopped: loop.stopped === "interrupted" ? "interrupted" : undefined,
    lastCheckpoint: loop.lastCheckpoint,
  };
}
