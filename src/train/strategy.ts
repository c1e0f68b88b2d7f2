import type { TrainingArgs } from "./args.js";

export interface StrategyChoice {
  args: Partial<TrainingArgs>;
  /** What was chosen and why, for the log. */
  reason: string;
}

/**
 * --strategy auto: the rule of thumb from the transfer-learning literature — with little data a
 * frozen encoder (feature extraction) generalises best, with more the top layers can adapt,
 * with plenty of data full fine-tuning wins.
 */
export function chooseStrategy(trainExamples: number, layers: number): StrategyChoice {
  if (trainExamples < 1000) {
    return { args: { freezeBackbone: true }, reason: `${trainExamples} training examples (< 1,000): feature extraction with a frozen encoder` };
  }
  if (trainExamples <= 10_000) {
    const k = Math.min(2, layers);
    return { args: { freezeBackbone: false, unfreezeTop: k }, reason: `${trainExamples} training examples (1,000–10,000): fine-tuning the top ${k} layers, pooler and head` };
  }
  return { args: { freezeBackbone: false }, reason: `${trainExamples} training examples (> 10,000): full fine-tuning` };
}
