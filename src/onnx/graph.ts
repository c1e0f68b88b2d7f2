/**
 * A small builder for ONNX graphs: initializers from typed arrays, nodes with generated output
 * names, typed inputs and outputs. It knows nothing of BERT; src/onnx/bert-graph.ts uses it.
 */
import { AttributeType, DataType, type AttributeProto, type DataTypeCode, type GraphProto, type NodeProto, type TensorProto, type ValueInfoProto } from "./proto.js";

export type Attr = AttributeProto;
export const attr = {
  int: (name: string, i: number): Attr => ({ name, type: AttributeType.INT, i }),
  float: (name: string, f: number): Attr => ({ name, type: AttributeType.FLOAT, f }),
  ints: (name: string, ints: number[]): Attr => ({ name, type: AttributeType.INTS, ints }),
};

type TypedData = Float32Array | Int8Array | Uint8Array | Int32Array | BigInt64Array;

function bytesOf(data: TypedData): Uint8Array {
  // Every platform Node runs on is little-endian, as ONNX's raw_data is.
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

/** A dimension: a fixed size or a symbolic name such as "batch_size". */
export type Dim = number | string;

function valueInfo(name: string, elemType: DataTypeCode, dims: Dim[]): ValueInfoProto {
  return { name, type: { tensorType: { elemType, shape: { dim: dims.map((d) => (typeof d === "number" ? { dimValue: d } : { dimParam: d })) } } } };
}

export class GraphBuilder {
  private readonly nodes: NodeProto[] = [];
  private readonly initializers: TensorProto[] = [];
  private readonly inputs: ValueInfoProto[] = [];
  private readonly outputs: ValueInfoProto[] = [];
  private readonly used = new Set<string>();
  private counter = 0;

  constructor(readonly name: string) {}

  private fresh(hint: string): string {
    let name = hint;
    while (this.used.has(name)) name = `${hint}_${++this.counter}`;
    this.used.add(name);
    return name;
  }

  input(name: string, elemType: DataTypeCode, dims: Dim[]): string {
    this.inputs.push(valueInfo(this.fresh(name), elemType, dims));
    return name;
  }

  /** Mark a value as a graph output under `name` (an Identity node renames it when needed). */
  output(value: string, name: string, elemType: DataTypeCode, dims: Dim[]): void {
    if (value !== name && this.ops("Identity", [value], [], [name])[0] !== name) throw new Error(`output name ${name} is taken`);
    this.outputs.push(valueInfo(name, elemType, dims));
  }

  tensor(name: string, dataType: DataTypeCode, dims: number[], data: TypedData): string {
    const size = dims.reduce((a, b) => a * b, 1);
    if (size !== data.length) throw new Error(`initializer ${name}: ${data.length} values do not fill [${dims.join(", ")}]`);
    const unique = this.fresh(name);
    this.initializers.push({ name: unique, dataType, dims, rawData: bytesOf(data) });
    return unique;
  }

  float(name: string, dims: number[], data: Float32Array | number[]): string {
    return this.tensor(name, DataType.FLOAT, dims, data instanceof Float32Array ? data : Float32Array.from(data));
  }

  int64(name: string, values: number[], dims: number[] = [values.length]): string {
    return this.tensor(name, DataType.INT64, dims, BigInt64Array.from(values.map(BigInt)));
  }

  /** A float scalar constant. */
  scalar(name: string, value: number): string {
    return this.float(name, [], [value]);
  }

  /** Add a node; returns its output names (generated from `outName`, or the op type). */
  ops(opType: string, inputs: string[], attributes: Attr[], outputs: number | string[], outName?: string): string[] {
    const names = typeof outputs === "number" ? Array.from({ length: outputs }, (_, i) => this.fresh(`${outName ?? opType}${outputs > 1 ? `_${i}` : ""}`)) : outputs.map((o) => this.fresh(o));
    this.nodes.push({ name: this.fresh(`${outName ?? opType}_node`), opType, input: inputs, output: names, ...(attributes.length ? { attribute: attributes } : {}) });
    return names;
  }

  /** Add a single-output node; returns the output's name. */
  op(opType: string, inputs: string[], attributes: Attr[] = [], outName?: string): string {
    return this.ops(opType, inputs, attributes, outName && !this.used.has(outName) ? [outName] : 1, outName)[0];
  }

  build(): GraphProto {
    return { name: this.name, node: this.nodes, initializer: this.initializers, input: this.inputs, output: this.outputs };
  }
}
