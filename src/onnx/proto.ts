/**
 * ONNX's protobuf messages, from ONNX's own schema (schemas/onnx.proto) through protobufjs: the
 * writer builds plain objects shaped like ModelProto and this module turns them into bytes.
 */
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import protobuf from "protobufjs";

/** TensorProto.DataType values used by bertune's graphs. */
export const DataType = { FLOAT: 1, UINT8: 2, INT8: 3, INT32: 6, INT64: 7 } as const;
export type DataTypeCode = (typeof DataType)[keyof typeof DataType];

/** AttributeProto.AttributeType values. */
export const AttributeType = { FLOAT: 1, INT: 2, STRING: 3, FLOATS: 6, INTS: 7 } as const;

export interface TensorProto {
  name: string;
  dataType: DataTypeCode;
  dims: number[];
  /** Little-endian bytes, as ONNX's raw_data. */
  rawData: Uint8Array;
}

export interface AttributeProto {
  name: string;
  type: number;
  f?: number;
  i?: number;
  s?: Uint8Array;
  floats?: number[];
  ints?: number[];
}

export interface NodeProto {
  name: string;
  opType: string;
  input: string[];
  output: string[];
  attribute?: AttributeProto[];
  domain?: string;
}

/** A tensor type: element type and dimensions, each a size or a symbolic name. */
export interface ValueInfoProto {
  name: string;
  type: { tensorType: { elemType: DataTypeCode; shape: { dim: ({ dimValue: number } | { dimParam: string })[] } } };
}

export interface GraphProto {
  name: string;
  node: NodeProto[];
  initializer: TensorProto[];
  input: ValueInfoProto[];
  output: ValueInfoProto[];
}

export interface ModelProto {
  irVersion: number;
  producerName: string;
  producerVersion: string;
  opsetImport: { domain: string; version: number }[];
  graph: GraphProto;
  metadataProps?: { key: string; value: string }[];
}

/** schemas/onnx.proto, from src/onnx or dist/onnx (both two levels below the package root). */
function schemaPath(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const path = join(here, "..", "..", "schemas", "onnx.proto");
  if (!existsSync(path)) throw new Error(`ONNX schema not found at ${path}: the package is incomplete`);
  return path;
}

let modelType: protobuf.Type | undefined;

function modelMessage(): protobuf.Type {
  modelType ??= protobuf.loadSync(schemaPath()).lookupType("onnx.ModelProto");
  return modelType;
}

/** Serialise a model; protobufjs checks every field against the schema first. */
export function encodeModel(model: ModelProto): Uint8Array {
  const type = modelMessage();
  const problem = type.verify(model);
  if (problem) throw new Error(`invalid ONNX model: ${problem}`);
  return type.encode(type.fromObject(model)).finish();
}

/** Parse a serialised model back into plain objects (for tests and inspection). */
export function decodeModel(bytes: Uint8Array): ModelProto {
  const type = modelMessage();
  return type.toObject(type.decode(bytes), { longs: Number, bytes: Uint8Array as unknown as typeof String, defaults: false }) as ModelProto;
}
