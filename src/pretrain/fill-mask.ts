import { readFloat32, tf, useBackend, type Device } from "../backend/tfjs.js";
import { readBertConfig } from "../bert/config.js";
import { BertForMaskedLM } from "../bert/masked-lm.js";
import { padToTensors } from "../bert/sequence-classifier.js";
import { BertuneError } from "../errors.js";
import { readSafetensors } from "../formats/safetensors.js";
import { MlmHead } from "../heads/mlm-head.js";
import { resolveModel, type ResolveOptions } from "../hub/resolve.js";
import { Tokenizer } from "../tokenizer/tokenizer.js";

/** One candidate for a masked token, as transformers' fill-mask pipeline returns it. */
export interface FillMaskCandidate {
  /** Softmax probability of the token at that position. */
  score: number;
  /** Its id. */
  token: number;
  /** The token as text (tokenizer.decode([id]): "good", "##ing"). */
  token_str: string;
  /** The input with this token in the mask's place, decoded without special tokens. */
  sequence: string;
}

export interface FillMaskOptions extends ResolveOptions {
  device?: Device;
}

/** A BertForMaskedLM and its tokenizer, for transformers' fill-mask pipeline. */
export class FillMask {
  private constructor(
    readonly model: BertForMaskedLM,
    readonly tokenizer: Tokenizer,
    readonly id: string,
    readonly backend: string,
  ) {}

  /** Load a model with an MLM head (a `bertune pretrain` output, or any BertForMaskedLM / BertForPreTraining checkpoint). */
  static async load(model: string, o: FillMaskOptions = {}): Promise<FillMask> {
    const backend = await useBackend(o.device ?? "auto", o.log);
    const r = await resolveModel(model, { required: ["config.json", "tokenizer.json", "model.safetensors"], optional: ["tokenizer_config.json"] }, o);
    const config = readBertConfig(r.files["config.json"]);
    const file = readSafetensors(r.files["model.safetensors"]);
    if (!MlmHead.inFile(file)) {
      throw new BertuneError(
        `${r.files["model.safetensors"]} has no masked-LM head (cls.predictions.*)`,
        "fill-mask needs a BertForMaskedLM: pretrain one with `bertune pretrain`, or use a checkpoint that keeps its MLM head (bert-base-uncased does)",
      );
    }
    const tokenizer = Tokenizer.fromFiles({ tokenizer: r.files["tokenizer.json"], tokenizerConfig: r.files["tokenizer_config.json"] });
    if (tokenizer.maskTokenId === undefined) throw new BertuneError(`the tokenizer of ${model} has no mask token`, "fill-mask needs a tokenizer with [MASK]");
    return new FillMask(BertForMaskedLM.fromSafetensors(file, config, { encoder: 0, head: 0 }), tokenizer, r.id, backend);
  }

  /**
   * The top-k tokens for every mask token in `text`, most probable first: one list per mask, in order.
   * As the pipeline, the sequence shows one mask filled (other masks, being special tokens, are left out).
   */
  async predict(text: string, topK = 5): Promise<FillMaskCandidate[][]> {
    const c = this.model.config;
    const mask = this.tokenizer.maskTokenId!;
    const enc = this.tokenizer.encodeOne(text, undefined, c.max_position_embeddings);
    const masked = enc.ids.flatMap((id, j) => (id === mask ? [j] : []));
    if (masked.length === 0) {
      throw new BertuneError(`no mask token (${this.tokenizer.maskToken ?? "[MASK]"}) in "${text}"`, `write ${this.tokenizer.maskToken ?? "[MASK]"} where a word is to be predicted, e.g. "the movie was ${this.tokenizer.maskToken ?? "[MASK]"} ."`);
    }
    const k = Math.max(1, Math.min(topK, c.vocab_size));
    const [values, indices] = tf.tidy(() => {
      const inputs = padToTensors([enc], this.tokenizer.padTokenId);
      const probs = tf.softmax(this.model.maskedLogits(inputs, Int32Array.from(masked)), -1);
      const top = tf.topk(probs, k, true);
      return [top.values, top.indices];
    });
    const [v, ix] = await Promise.all([readFloat32(values), indices.data()]);
    tf.dispose([values, indices]);
    return masked.map((pos, m) =>
      Array.from({ length: k }, (_, r) => {
        const token = Number(ix[m * k + r]);
        const ids = enc.ids.slice();
        ids[pos] = token;
        return {
          score: v[m * k + r],
          token,
          token_str: this.tokenizer.decode([token]),
          sequence: this.tokenizer.decode(ids, { skipSpecialTokens: true }),
        };
      }),
    );
  }

  dispose(): void {
    this.model.dispose();
  }
}
