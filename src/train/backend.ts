import * as tf from "@tensorflow/tfjs";
import "@tensorflow/tfjs-backend-wasm";
import { BertuneError } from "../errors.js";

export type Device = "auto" | "wasm" | "cpu";
export const DEVICES: readonly Device[] = ["auto", "wasm", "cpu"];

/**
 * Select the TensorFlow.js backend. wasm is the CPU default (the pure-JS "cpu" backend is much
 * slower and only a fallback). Returns the name of the backend in use.
 */
export async function useBackend(device: Device = "auto", log?: (line: string) => void): Promise<string> {
  const candidates = device === "auto" ? ["wasm", "cpu"] : [device];
  for (const name of candidates) {
    if (tf.getBackend() === name) return name;
    let ok = false;
    try {
      ok = await tf.setBackend(name);
      await tf.ready();
    } catch {
      ok = false;
    }
    if (ok) {
      if (device === "auto") log?.(`tensorflow.js backend: ${name}`);
      return name;
    }
  }
  throw new BertuneError(`the tensorflow.js backend "${device}" could not start`, `try --device ${device === "wasm" ? "cpu" : "wasm"}`);
}

export { tf };
