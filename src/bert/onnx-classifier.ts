import type * as ort from "onnxruntime-node";
import { BertuneError } from "../errors.js";
import type { EncodedBatch } from "../tokenizer/tokenizer.js";
import { bertFeeds, openBertSession, type OnnxEncoderOptions } from "./onnx-encoder.js";

/** An exported run (`onnx/model.onnx`, output `logits`) on onnxruntime: what transformers.js runs, from Node. */
export class OnnxSequenceClassifier {
  private constructor(
    private readonly session: ort.InferenceSession,
    readonly numLabels: number,
  ) {}

  static async load(path: string, numLabels: number, options: OnnxEncoderOptions = {}): Promise<OnnxSequenceClassifier> {
    const session = await openBertSession(path, options);
    if (!session.outputNames.includes("logits")) {
      await session.release();
      throw new BertuneError(`the ONNX graph ${path} has no logits output`, "export the run again: bertune export RUN");
    }
    return new OnnxSequenceClassifier(session, numLabels);
  }

  /** Logits [B × numLabels], row-major. */
  async logits(batch: EncodedBatch): Promise<Float32Array> {
    const out = await this.session.run(bertFeeds(this.session, batch), ["logits"]);
    const data = out.logits.data as Float32Array;
    if (data.length !== batch.inputIds.length * this.numLabels) {
      throw new BertuneError(`the exported graph gives ${data.length / batch.inputIds.length} logits per text, the run has ${this.numLabels} labels`, "export the run again: bertune export RUN");
    }
    return new Float32Array(data);
  }

  async close(): Promise<void> {
    await this.session.release();
  }
}
