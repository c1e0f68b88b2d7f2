/**
 * The three problem types of transformers' BertForSequenceClassification (`problem_type` in
 * config.json): they decide the loss (cross-entropy, binary cross-entropy with logits, mean
 * squared error), the activation at prediction (softmax, sigmoid, none) and the metrics.
 */
export type ProblemType = "single_label_classification" | "multi_label_classification" | "regression";
export const PROBLEM_TYPES: readonly ProblemType[] = ["single_label_classification", "multi_label_classification", "regression"];
