import type { AdamWOptions } from "./adamw.js";

/** One parameter updated in place, with its weight decay. */
export interface ArrayParam {
  value: Float32Array;
  weightDecay: number;
}

/**
 * AdamW on plain Float32Arrays, for parameters small enough that dispatching tensor ops would
 * cost more than the arithmetic (the frozen path's head). The same update as the tensor AdamW
 * and torch.optim.AdamW: decoupled weight decay, bias-corrected moments, eps after the square
 * root; moments kept in float32 as torch keeps them. Gradients are scaled by `gradScale` on the
 * way in, which is how global-norm clipping is applied without another pass.
 */
export class ArrayAdamW {
  readonly beta1: number;
  readonly beta2: number;
  readonly epsilon: number;
  private readonly m: Float32Array[];
  private readonly v: Float32Array[];
  private steps = 0;

  constructor(
    readonly params: ArrayParam[],
    o: AdamWOptions = {},
  ) {
    this.beta1 = o.beta1 ?? 0.9;
    this.beta2 = o.beta2 ?? 0.999;
    this.epsilon = o.epsilon ?? 1e-8;
    this.m = params.map((p) => new Float32Array(p.value.length));
    this.v = params.map((p) => new Float32Array(p.value.length));
  }

  step(grads: readonly Float32Array[], lr: number, gradScale = 1): void {
    this.steps++;
    const { beta1, beta2, epsilon } = this;
    const [c1, c2] = [1 - beta1, 1 - beta2];
    const stepSize = lr / (1 - Math.pow(beta1, this.steps));
    const bc2Sqrt = Math.sqrt(1 - Math.pow(beta2, this.steps));
    for (let k = 0; k < this.params.length; k++) {
      const w = this.params[k].value;
      const g = grads[k];
      const m = this.m[k];
      const v = this.v[k];
      const decay = 1 - lr * this.params[k].weightDecay;
      for (let i = 0; i < w.length; i++) {
        const gi = g[i] * gradScale;
        const mi = (m[i] = beta1 * m[i] + c1 * gi);
        const vi = (v[i] = beta2 * v[i] + c2 * gi * gi);
        w[i] = w[i] * decay - (stepSize * mi) / (Math.sqrt(vi) / bc2Sqrt + epsilon);
      }
    }
  }
}

/** The global L2 norm of several gradient arrays, as torch.nn.utils.clip_grad_norm_ measures it. */
export function globalNorm(grads: readonly Float32Array[]): number {
  let s = 0;
  for (const g of grads) for (let i = 0; i < g.length; i++) s += g[i] * g[i];
  return Math.sqrt(s);
}

/** clip_grad_norm_'s scale: min(1, maxNorm / (norm + 1e-6)); 1 when clipping is off or the norm is not finite. */
export function clipScale(norm: number, maxNorm: number): number {
  if (!(maxNorm > 0) || !Number.isFinite(norm)) return 1;
  return Math.min(1, maxNorm / (norm + 1e-6));
}
