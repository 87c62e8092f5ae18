/**
 * The ONNX model file format: the messages of the official `onnx/onnx.proto` this exporter writes
 * (ModelProto and what it holds), as a protobufjs JSON description (no .proto parsing, no
 * codegen), and `encodeModel` that serialises one. Field numbers and enum values are the spec's;
 * fields the exporter never writes (training info, sparse tensors, functions) are left out, which
 * protobuf allows.
 */
import protobuf from 'protobufjs';

/** IR version of the files written (7: the IR of opsets 12-13; onnxruntime, Sentis and the Python checker read it). */
export const ONNX_IR_VERSION = 7;

/** TensorProto.DataType values used here. */
export const OnnxDataType = { FLOAT: 1, INT32: 6, INT64: 7 } as const;

/** AttributeProto.AttributeType values used here. */
export const OnnxAttributeType = { FLOAT: 1, INT: 2, STRING: 3, FLOATS: 6, INTS: 7 } as const;

const root = protobuf.Root.fromJSON({
  nested: {
    onnx: {
      nested: {
        ModelProto: {
          fields: {
            irVersion: { type: 'int64', id: 1 },
            producerName: { type: 'string', id: 2 },
            producerVersion: { type: 'string', id: 3 },
            domain: { type: 'string', id: 4 },
            modelVersion: { type: 'int64', id: 5 },
            docString: { type: 'string', id: 6 },
            graph: { type: 'GraphProto', id: 7 },
            opsetImport: { rule: 'repeated', type: 'OperatorSetIdProto', id: 8 },
            metadataProps: { rule: 'repeated', type: 'StringStringEntryProto', id: 14 },
          },
        },
        OperatorSetIdProto: { fields: { domain: { type: 'string', id: 1 }, version: { type: 'int64', id: 2 } } },
        StringStringEntryProto: { fields: { key: { type: 'string', id: 1 }, value: { type: 'string', id: 2 } } },
        GraphProto: {
          fields: {
            node: { rule: 'repeated', type: 'NodeProto', id: 1 },
            name: { type: 'string', id: 2 },
            initializer: { rule: 'repeated', type: 'TensorProto', id: 5 },
            docString: { type: 'string', id: 10 },
            input: { rule: 'repeated', type: 'ValueInfoProto', id: 11 },
            output: { rule: 'repeated', type: 'ValueInfoProto', id: 12 },
            valueInfo: { rule: 'repeated', type: 'ValueInfoProto', id: 13 },
          },
        },
        NodeProto: {
          fields: {
            input: { rule: 'repeated', type: 'string', id: 1 },
            output: { rule: 'repeated', type: 'string', id: 2 },
            name: { type: 'string', id: 3 },
            opType: { type: 'string', id: 4 },
            attribute: { rule: 'repeated', type: 'AttributeProto', id: 5 },
            docString: { type: 'string', id: 6 },
            domain: { type: 'string', id: 7 },
          },
        },
        AttributeProto: {
          fields: {
            name: { type: 'string', id: 1 },
            f: { type: 'float', id: 2 },
            i: { type: 'int64', id: 3 },
            s: { type: 'bytes', id: 4 },
            floats: { rule: 'repeated', type: 'float', id: 7 },
            ints: { rule: 'repeated', type: 'int64', id: 8 },
            docString: { type: 'string', id: 13 },
            type: { type: 'int32', id: 20 },
          },
        },
        TensorProto: {
          fields: {
            dims: { rule: 'repeated', type: 'int64', id: 1 },
            dataType: { type: 'int32', id: 2 },
            floatData: { rule: 'repeated', type: 'float', id: 4 },
            int32Data: { rule: 'repeated', type: 'int32', id: 5 },
            int64Data: { rule: 'repeated', type: 'int64', id: 7 },
            name: { type: 'string', id: 8 },
            rawData: { type: 'bytes', id: 9 },
            docString: { type: 'string', id: 12 },
          },
        },
        ValueInfoProto: { fields: { name: { type: 'string', id: 1 }, type: { type: 'TypeProto', id: 2 }, docString: { type: 'string', id: 3 } } },
        TypeProto: {
          fields: { tensorType: { type: 'Tensor', id: 1 }, denotation: { type: 'string', id: 6 } },
          nested: { Tensor: { fields: { elemType: { type: 'int32', id: 1 }, shape: { type: 'TensorShapeProto', id: 2 } } } },
        },
        TensorShapeProto: {
          fields: { dim: { rule: 'repeated', type: 'Dimension', id: 1 } },
          nested: {
            Dimension: {
              oneofs: { value: { oneof: ['dimValue', 'dimParam'] } },
              fields: { dimValue: { type: 'int64', id: 1 }, dimParam: { type: 'string', id: 2 }, denotation: { type: 'string', id: 3 } },
            },
          },
        },
      },
    },
  },
});
const ModelType = root.lookupType('onnx.ModelProto');

/** One attribute of a node (exactly one value field set, matching `type`). */
export interface OnnxAttribute {
  name: string;
  type: number;
  f?: number;
  i?: number;
  s?: Uint8Array;
  floats?: number[];
  ints?: number[];
}

export interface OnnxNode {
  input: string[];
  output: string[];
  name: string;
  opType: string;
  attribute: OnnxAttribute[];
}

export interface OnnxTensor {
  name: string;
  dims: number[];
  dataType: number;
  /** Little-endian fixed-width values, as the spec requires of raw_data. */
  rawData: Uint8Array;
}

/** A tensor value's declared type: element type and shape, a dimension either fixed or named (e.g. the batch `N`). */
export interface OnnxValueInfo {
  name: string;
  docString?: string;
  type: { tensorType: { elemType: number; shape: { dim: Array<{ dimValue: number } | { dimParam: string }> } } };
}

export interface OnnxGraph {
  name: string;
  docString?: string;
  node: OnnxNode[];
  initializer: OnnxTensor[];
  input: OnnxValueInfo[];
  output: OnnxValueInfo[];
}

export interface OnnxModel {
  irVersion: number;
  producerName: string;
  producerVersion: string;
  docString?: string;
  graph: OnnxGraph;
  opsetImport: Array<{ domain: string; version: number }>;
  metadataProps: Array<{ key: string; value: string }>;
}

/** Serialises a model to the bytes of a `.onnx` file. */
export function encodeModel(model: OnnxModel): Uint8Array {
  return ModelType.encode(ModelType.fromObject(model)).finish();
}

/** Decodes a `.onnx` file into plain objects (int64 fields as numbers); for tests and inspection. */
export function decodeModel(bytes: Uint8Array): OnnxModel {
  return ModelType.toObject(ModelType.decode(bytes), { longs: Number, defaults: false, arrays: true }) as OnnxModel;
}
