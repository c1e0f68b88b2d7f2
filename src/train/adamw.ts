import { readFloat32, tf } from "../backend/tfjs.js";

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

interface ParamState {
  m: tf.Variable;
  v: tf.Variable;
  step: number;
}

/** The optimizer state of one parameter, as plain arrays (for checkpoints). */
export interface SavedParamState {
  m: Float32Array;
  v: Float32Array;
  shape: number[];
  step: number;
}

function variableFrom(values: tf.Tensor): tf.Variable {
  const v = tf.variable(values, false);
  values.dispose();
  return v;
}

/**
 * AdamW as torch.optim.AdamW computes it: decoupled weight decay (p ← p − lr·wd·p) applied
 * before the Adam update, bias-corrected moments, eps added after the square root. As in
 * torch, a parameter's state (moments and step count) is created on its first gradient, so
 * frozen parameters cost nothing and parameters unfrozen later start fresh.
 */
export class AdamW {
  readonly beta1: number;
  readonly beta2: number;
  readonly epsilon: number;
  private readonly state = new Map<tf.Variable, ParamState>();

  constructor(
    readonly groups: ParamGroup[],
    o: AdamWOptions = {},
  ) {
    this.beta1 = o.beta1 ?? 0.9;
    this.beta2 = o.beta2 ?? 0.999;
    this.epsilon = o.epsilon ?? 1e-8;
  }

  /** Number of parameters holding optimizer state. */
  get statefulParams(): number {
    return this.state.size;
  }

  private stateOf(p: tf.Variable): ParamState {
    let s = this.state.get(p);
    if (!s) {
      s = { m: variableFrom(tf.zerosLike(p)), v: variableFrom(tf.zerosLike(p)), step: 0 };
      this.state.set(p, s);
    }
    return s;
  }

  /** One update with gradients keyed by variable name; parameters without a gradient are left alone. */
  step(grads: Record<string, tf.Tensor>, lr: number): void {
    tf.tidy(() => {
      for (const g of this.groups) {
        const groupLr = lr * (g.lrScale ?? 1);
        for (const p of g.params) {
          const grad = grads[p.name];
          if (!grad) continue;
          const s = this.stateOf(p);
          s.step += 1;
          const bc1 = 1 - Math.pow(this.beta1, s.step);
          const bc2 = 1 - Math.pow(this.beta2, s.step);
          const mNew = s.m.mul(this.beta1).add(grad.mul(1 - this.beta1));
          const vNew = s.v.mul(this.beta2).add(grad.square().mul(1 - this.beta2));
          s.m.assign(mNew);
          s.v.assign(vNew);
          const decayed = g.weightDecay > 0 ? p.mul(1 - groupLr * g.weightDecay) : p;
          const denom = vNew.sqrt().div(Math.sqrt(bc2)).add(this.epsilon);
          p.assign(decayed.sub(mNew.div(denom).mul(groupLr / bc1)));
        }
      }
    });
  }

  /** The state of every parameter that has one, keyed by a name the caller chooses (read asynchronously: GPU backends have no synchronous read in Node). */
  async saveState(nameOf: (p: tf.Variable) => string): Promise<Map<string, SavedParamState>> {
    const out = new Map<string, SavedParamState>();
    for (const [p, s] of this.state) {
      const [m, v] = await Promise.all([readFloat32(s.m), readFloat32(s.v)]);
      out.set(nameOf(p), { m, v, shape: p.shape, step: s.step });
    }
    return out;
  }

  loadState(saved: Map<string, SavedParamState>, byName: Map<string, tf.Variable>): void {
    for (const [name, s] of saved) {
      const p = byName.get(name);
      if (!p) continue;
      const st = this.stateOf(p);
      tf.tidy(() => {
        st.m.assign(tf.tensor(s.m, p.shape));
        st.v.assign(tf.tensor(s.v, p.shape));
      });
      st.step = s.step;
    }
  }

  dispose(): void {
    for (const s of this.state.values()) {
      s.m.dispose();
      s.v.dispose();
    }
    this.state.clear();
  }
}

/**
 * The sum of many scalars, added a few at a time: one addN over every parameter would bind a
 * storage buffer per input, beyond WebGPU's per-shader limit (8 by default; BERT-base has 199
 * parameter tensors), and the whole submitted batch of GPU work would be dropped.
 */
function sumScalars(xs: tf.Tensor[]): tf.Tensor {
  const CHUNK = 4;
  while (xs.length > 1) {
    const next: tf.Tensor[] = [];
    for (let i = 0; i < xs.length; i += CHUNK) next.push(xs.length - i === 1 ? xs[i] : tf.addN(xs.slice(i, i + CHUNK)));
    xs = next;
  }
  return xs[0];
}

/**
 * Global-norm clipping as torch.nn.utils.clip_grad_norm_: scale every gradient by
 * min(1, maxNorm / (norm + 1e-6)). It stays on the device (no read-back, so a GPU backend is
 * not stalled); the norm before clipping comes back as a scalar tensor the caller reads and
 * disposes. Scaling by exactly 1 leaves a gradient unchanged, so values equal torch's.
 */
export function clipByGlobalNorm(grads: Record<string, tf.Tensor>, maxNorm: number): { grads: Record<string, tf.Tensor>; norm: tf.Scalar } {
  const names = Object.keys(grads);
  const norm = tf.tidy(() => sumScalars(names.map((n) => grads[n].square().sum())).sqrt()) as tf.Scalar;
  if (!(maxNorm > 0)) return { grads, norm };
  const clipped = tf.tidy(() => {
    const coef = tf.minimum(tf.div(maxNorm, norm.add(1e-6)), 1);
    return Object.fromEntries(names.map((n) => [n, grads[n].mul(coef)]));
  });
  tf.dispose(Object.values(grads));
  return { grads: clipped, norm };
}
