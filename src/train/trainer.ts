import type { Example, LoadedDataset } from "../data/types.js";
import { BertuneError } from "../errors.js";
import { FeatureCache } from "../features/cache.js";
import { frozenFeatures, type FrozenFeatures } from "../features/frozen.js";
import type { LoadedModel } from "../model.js";
import { silentProgress, type ProgressFactory } from "../util/progress.js";
import { resolveArgs, type TrainingArgs } from "./args.js";
import { useBackend } from "./backend.js";
import { trainHead, type HeadTrainingResult } from "./head-trainer.js";

export interface TrainResult extends HeadTrainingResult {
  /** The tensorflow.js backend the head trained on. */
  backend: string;
  featuresFromCache: { train: boolean; validation: boolean };
}

export interface TrainerOptions {
  model: LoadedModel;
  dataset: LoadedDataset;
  args?: Partial<TrainingArgs>;
  /** Where frozen features are kept; false disables the cache. Default: the bertune cache. */
  featureCache?: FeatureCache | false;
  progress?: ProgressFactory;
  log?: (line: string) => void;
}

/**
 * The Trainer. Frozen mode: the encoder runs once per example (features cached on disk), then
 * only the head is trained on those features.
 */
export class Trainer {
  readonly args: TrainingArgs;
  private readonly progress: ProgressFactory;
  private readonly log: (line: string) => void;

  constructor(private readonly o: TrainerOptions) {
    this.args = resolveArgs(o.args);
    this.progress = o.progress ?? silentProgress;
    this.log = o.log ?? (() => {});
  }

  private features(split: "train" | "validation", examples: Example[]): Promise<FrozenFeatures> {
    return frozenFeatures(this.o.model, examples, {
      datasetHash: this.o.dataset.contentHash,
      split,
      maxLength: this.args.maxLength,
      pooling: this.args.pooling,
      cache: this.o.featureCache ?? new FeatureCache(),
      progress: this.progress,
    });
  }

  async train(): Promise<TrainResult> {
    const { model, dataset } = this.o;
    const args = this.args;
    if (!args.freezeBackbone) {
      throw new BertuneError("full-backbone fine-tuning is not available in this version", "pass --freeze-backbone to train the head on frozen features");
    }
    const { train, validation } = dataset.splits;
    if (train.length === 0) throw new BertuneError("the training split is empty", "check the data set");
    if (validation.length === 0) throw new BertuneError("the validation split is empty", "pass --validation-ratio, or give a validation file");

    const backend = await useBackend(args.device, this.log);
    const trainFeat = await this.features("train", train);
    const valFeat = await this.features("validation", validation);
    const result = trainHead(
      {
        train: { data: trainFeat.data, rows: trainFeat.rows, labels: train.map((e) => e.label) },
        validation: { data: valFeat.data, rows: valFeat.rows, labels: validation.map((e) => e.label) },
        hiddenSize: trainFeat.hiddenSize,
        id2label: dataset.id2label,
        dropout: model.config.classifier_dropout ?? model.config.hidden_dropout_prob,
        initializerRange: model.config.initializer_range,
      },
      args,
      { progress: this.progress, log: this.log },
    );
    return { ...result, backend, featuresFromCache: { train: trainFeat.fromCache, validation: valFeat.fromCache } };
  }
}
