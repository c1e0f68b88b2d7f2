import { tf } from "./backend.js";

/** Parameters that share a weight decay and a learning-rate multiplier. */
export interface ParamGroup {
  params: tf.Variable[];
  weightDecay: number;
  /** Multiplies the scheduled learning rate (head multiplier, layer-wise decay). */
  lrScale?: number;
}

export interface AdamWOptions {
  beta1?: number;
  beta2?: number;
  epsilon?: number;
}

function zerosVariable(like: tf.Tensor): tf.Variable {
  const zeros = tf.zerosLike(like);
  const v = tf.variable(zeros, false);
  zeros.dispose();
  return v;
}

/**
 * AdamW as torch.optim.AdamW computes it: decoupled weight decay (p ← p − lr·wd·p) applied
 * before the Adam update, bias-corrected moments, eps added after the square root.
 */
export class AdamW {
  readonly beta1: number;
  readonly beta2: number;
  readonly epsilon: number;
  private t = 0;
  private readonly m = new Map<tf.Variable, tf.Variable>();
  private readonly v = new Map<tf.Variable, tf.Variable>();

  constructor(
    readonly groups: ParamGroup[],
    o: AdamWOptions = {},
  ) {
    this.beta1 = o.beta1 ?? 0.9;
    this.beta2 = o.beta2 ?? 0.999;
    this.epsilon = o.epsilon ?? 1e-8;
    for (const g of groups)
      for (const p of g.params) {
        this.m.set(p, zerosVariable(p));
        this.v.set(p, zerosVariable(p));
      }
  }

  get stepCount(): number {
    return this.t;
  }

  /** One update with gradients keyed by variable name. */
  step(grads: Record<string, tf.Tensor>, lr: number): void {
    this.t += 1;
    const bc1 = 1 - Math.pow(this.beta1, this.t);
    const bc2 = 1 - Math.pow(this.beta2, this.t);
    tf.tidy(() => {
      for (const g of this.groups) {
        const groupLr = lr * (g.lrScale ?? 1);
        for (const p of g.params) {
          const grad = grads[p.name];
          if (!grad) continue;
          const m = this.m.get(p)!;
          const v = this.v.get(p)!;
          const mNew = m.mul(this.beta1).add(grad.mul(1 - this.beta1));
          const vNew = v.mul(this.beta2).add(grad.square().mul(1 - this.beta2));
          m.assign(mNew);
          v.assign(vNew);
          const decayed = g.weightDecay > 0 ? p.mul(1 - groupLr * g.weightDecay) : p;
          const denom = vNew.sqrt().div(Math.sqrt(bc2)).add(this.epsilon);
          p.assign(decayed.sub(mNew.div(denom).mul(groupLr / bc1)));
        }
      }
    });
  }

  dispose(): void {
    for (const t of [...this.m.values(), ...this.v.values()]) t.dispose();
  }
}

/**
 * Global-norm clipping as torch.nn.utils.clip_grad_norm_: scale every gradient by
 * maxNorm / (norm + 1e-6) when that is below 1. Returns the norm before clipping.
 */
export function clipByGlobalNorm(grads: Record<string, tf.Tensor>, maxNorm: number): { grads: Record<string, tf.Tensor>; norm: number } {
  const names = Object.keys(grads);
  const normT = tf.tidy(() => tf.addN(names.map((n) => grads[n].square().sum())).sqrt());
  const norm = normT.dataSync()[0];
  normT.dispose();
  if (!(maxNorm > 0) || !Number.isFinite(norm)) return { grads, norm };
  const coef = maxNorm / (norm + 1e-6);
  if (coef >= 1) return { grads, norm };
  const clipped: Record<string, tf.Tensor> = {};
  for (const n of names) {
    clipped[n] = grads[n].mul(coef);
    grads[n].dispose();
  }
  return { grads: clipped, norm };
}
