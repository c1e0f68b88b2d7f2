import type { ProblemType } from "../problem-type.js";
/** The files of a run folder, named as the Hugging Face Trainer names them. */
export const RUN_FILES = {
  config: "config.json",
  weights: "model.safetensors",
  trainingArgs: "training_args.json",
  trainerState: "trainer_state.json",
  evalResults: "eval_results.json",
  trainResults: "train_results.json",
  evalReport: "eval_report.json",
} as const;

/** `bertune export`'s graphs, where transformers.js looks for them. */
export const ONNX_EXPORT = { model: "onnx/model.onnx", quantized: "onnx/model_quantized.onnx" } as const;

/** What bertune adds to config.json so a run can be reloaded: the base encoder and how its output was pooled. */
export interface RunConfig {
  architectures: string[];
  model_type: string;
  hidden_size: number;
  id2label: Record<string, string>;
  label2id: Record<string, number>;
  /** As transformers writes it; runs saved before problem types are single-label. */
  problem_type?: ProblemType;
  /** Multi-label runs: the sigmoid threshold a label must reach to be predicted. */
  threshold?: number;
  base_model: string;
  base_model_revision: string;
  pooling: string;
  max_length: number;
  /** "frozen": model.safetensors is the head alone; "full": the whole BertForSequenceClassification. */
  bertune_mode: "frozen" | "full";
  /** Where the ONNX export of the base model came from, when not the base repo itself. */
  onnx_from?: { id: string; revision: string };
  [key: string]: unknown;
}
