// Builds the ONNX models the onnxruntime baselines run, in code, so the benchmark needs no model
// files and no onnx/protobuf package. ONNX models are protobuf (proto2) messages; the few we need
// only use varints, fixed32 floats and length-delimited fields, so a ~100-line encoder suffices.
//
// Field numbers are those of onnx/onnx.proto (ModelProto, GraphProto, NodeProto, AttributeProto,
// ValueInfoProto, TypeProto, TensorShapeProto, TensorProto, OperatorSetIdProto).

/** ONNX TensorProto.DataType values used here. */
export const DataType = Object.freeze({ FLOAT: 1, INT32: 6, INT64: 7 });

/** AttributeProto.AttributeType values used here. */
const AttrType = Object.freeze({ FLOAT: 1, INT: 2, STRING: 3, TENSOR: 4, INTS: 7 });

const WIRE_VARINT = 0;
const WIRE_LEN = 2;
const WIRE_FIXED32 = 5;
const utf8 = new TextEncoder();

/** Append-only protobuf writer; each message is encoded into its own writer, then nested. */
class Writer {
  constructor() {
    /** @type {number[]} */
    this.bytes = [];
  }

  /** Unsigned LEB128. int64 fields take negative values as their 64-bit two's complement. */
  varint(value) {
    let v = BigInt.asUintN(64, BigInt(value));
    while (v >= 0x80n) {
      this.bytes.push(Number(v & 0x7fn) | 0x80);
      v >>= 7n;
    }
    this.bytes.push(Number(v));
    return this;
  }

  tag(field, wire) {
    return this.varint((field << 3) | wire);
  }

  /** int32/int64/enum field (wire type 0). Skipped when undefined, like an unset optional. */
  int(field, value) {
    if (value === undefined) return this;
    return this.tag(field, WIRE_VARINT).varint(value);
  }

  /** float field (wire type 5, little-endian IEEE single). */
  float(field, value) {
    this.tag(field, WIRE_FIXED32);
    const b = new Uint8Array(new Float32Array([value]).buffer);
    for (let i = 0; i < 4; i++) this.bytes.push(b[i]);
    return this;
  }

  /** bytes/string/sub-message field (wire type 2). */
  bytesField(field, data) {
    this.tag(field, WIRE_LEN).varint(data.length);
    for (let i = 0; i < data.length; i++) this.bytes.push(data[i]);
    return this;
  }

  string(field, value) {
    if (value === undefined) return this;
    return this.bytesField(field, utf8.encode(value));
  }

  message(field, encoded) {
    return this.bytesField(field, encoded);
  }

  finish() {
    return Uint8Array.from(this.bytes);
  }
}

/**
 * TensorProto with the data in raw_data (little-endian, as ONNX requires; every platform we run
 * on is little-endian, so the typed array's bytes are already in that order).
 * @param {{ name?: string, dataType: number, dims: number[], data: Float32Array | Int32Array | BigInt64Array }} t
 */
export function tensorProto({ name, dataType, dims, data }) {
  const w = new Writer();
  for (const d of dims) w.int(1, d); // dims
  w.int(2, dataType); // data_type
  w.string(8, name); // name
  w.bytesField(9, new Uint8Array(data.buffer, data.byteOffset, data.byteLength)); // raw_data
  return w.finish();
}

/**
 * ValueInfoProto for a tensor graph input/output. A number dim is fixed (dim_value); a string dim
 * is symbolic (dim_param).
 * @param {string} name
 * @param {number} elemType
 * @param {(number|string)[]} dims
 */
export function valueInfo(name, elemType, dims) {
  const shape = new Writer();
  for (const d of dims) {
    const dim = new Writer();
    if (typeof d === 'number') dim.int(1, d); // dim_value
    else dim.string(2, d); // dim_param
    shape.message(1, dim.finish()); // TensorShapeProto.dim
  }
  const tensorType = new Writer().int(1, elemType).message(2, shape.finish()); // elem_type, shape
  const type = new Writer().message(1, tensorType.finish()); // TypeProto.tensor_type
  return new Writer().string(1, name).message(2, type.finish()).finish(); // name, type
}

/**
 * AttributeProto. The type is inferred from the JS value: integer -> INT, other number -> FLOAT
 * (pass `{ float: x }` to force FLOAT for an integral value), string -> STRING, number[] -> INTS,
 * `{ tensor: bytes }` -> TENSOR.
 */
function attribute(name, value) {
  const w = new Writer().string(1, name);
  if (typeof value === 'number' && Number.isInteger(value)) {
    w.int(3, value).int(20, AttrType.INT);
  } else if (typeof value === 'number') {
    w.float(2, value).int(20, AttrType.FLOAT);
  } else if (typeof value === 'string') {
    w.string(4, value).int(20, AttrType.STRING);
  } else if (Array.isArray(value)) {
    for (const v of value) w.int(8, v);
    w.int(20, AttrType.INTS);
  } else if (value && typeof value.float === 'number') {
    w.float(2, value.float).int(20, AttrType.FLOAT);
  } else if (value && value.tensor instanceof Uint8Array) {
    w.message(5, value.tensor).int(20, AttrType.TENSOR);
  } else {
    throw new TypeError(`attribute ${name}: unsupported value ${value}`);
  }
  return w.finish();
}

/**
 * NodeProto.
 * @param {string} opType
 * @param {string[]} inputs  ('' for an omitted optional input)
 * @param {string[]} outputs
 * @param {Record<string, unknown>} [attrs]
 */
export function node(opType, inputs, outputs, attrs = {}) {
  const w = new Writer();
  for (const i of inputs) w.string(1, i);
  for (const o of outputs) w.string(2, o);
  w.string(3, `${opType}_${outputs[0]}`); // name
  w.string(4, opType); // op_type
  for (const [k, v] of Object.entries(attrs)) w.message(5, attribute(k, v));
  return w.finish();
}

/**
 * Serialized ModelProto (IR version 8, default-domain opset 13 unless told otherwise).
 * @param {{ name: string, nodes: Uint8Array[], inputs: Uint8Array[], outputs: Uint8Array[],
 *           initializers?: Uint8Array[], opset?: number, irVersion?: number }} g
 * @returns {Uint8Array}
 */
export function model({ name, nodes, inputs, outputs, initializers = [], opset = 13, irVersion = 8 }) {
  const graph = new Writer();
  for (const n of nodes) graph.message(1, n); // node
  graph.string(2, name); // name
  for (const t of initializers) graph.message(5, t); // initializer
  for (const i of inputs) graph.message(11, i); // input
  for (const o of outputs) graph.message(12, o); // output
  const opsetId = new Writer().string(1, '').int(2, opset); // default domain
  return new Writer()
    .int(1, irVersion) // ir_version
    .string(2, 'softmax-wasm-bench') // producer_name
    .message(7, graph.finish()) // graph
    .message(8, opsetId.finish()) // opset_import
    .finish();
}

// ---------------------------------------------------------------------------------------------
// The four benchmark models. Shapes are fixed per model ([rows, classes]) so the runtime can plan
// for the exact shape, as a deployed model with a known batch size would.
// Inputs: `logits` float [rows, classes]; `labels` int64 [rows] (ONNX losses take int64 only).

/** softmax(logits, axis=-1) -> `probs` */
export function softmaxModel(rows, classes) {
  return model({
    name: 'softmax',
    nodes: [node('Softmax', ['logits'], ['probs'], { axis: -1 })],
    inputs: [valueInfo('logits', DataType.FLOAT, [rows, classes])],
    outputs: [valueInfo('probs', DataType.FLOAT, [rows, classes])],
  });
}

/** log_softmax(logits, axis=-1) -> `logp` */
export function logSoftmaxModel(rows, classes) {
  return model({
    name: 'log_softmax',
    nodes: [node('LogSoftmax', ['logits'], ['logp'], { axis: -1 })],
    inputs: [valueInfo('logits', DataType.FLOAT, [rows, classes])],
    outputs: [valueInfo('logp', DataType.FLOAT, [rows, classes])],
  });
}

/** SoftmaxCrossEntropyLoss(logits, labels, reduction='mean') -> scalar `loss` */
export function crossEntropyModel(rows, classes) {
  return model({
    name: 'cross_entropy',
    nodes: [node('SoftmaxCrossEntropyLoss', ['logits', 'labels'], ['loss'], { reduction: 'mean' })],
    inputs: [
      valueInfo('logits', DataType.FLOAT, [rows, classes]),
      valueInfo('labels', DataType.INT64, [rows]),
    ],
    outputs: [valueInfo('loss', DataType.FLOAT, [])],
  });
}

/**
 * Mean cross-entropy and its gradient w.r.t. the logits, as an inference runtime user would build
 * it without a training build: the loss from SoftmaxCrossEntropyLoss, and
 * grad = (Softmax(logits) - OneHot(labels)) * (1/rows). The two branches are independent ops (no
 * fusion across them), which is what ORT executes for such a graph.
 * Outputs: `loss` (scalar), `grad` [rows, classes].
 */
export function crossEntropyWithGradModel(rows, classes) {
  return model({
    name: 'cross_entropy_with_grad',
    nodes: [
      node('SoftmaxCrossEntropyLoss', ['logits', 'labels'], ['loss'], { reduction: 'mean' }),
      node('Softmax', ['logits'], ['probs'], { axis: -1 }),
      node('OneHot', ['labels', 'depth', 'off_on'], ['onehot'], { axis: -1 }),
      node('Sub', ['probs', 'onehot'], ['diff']),
      node('Mul', ['diff', 'inv_rows'], ['grad']),
    ],
    initializers: [
      tensorProto({ name: 'depth', dataType: DataType.INT64, dims: [], data: BigInt64Array.of(BigInt(classes)) }),
      tensorProto({ name: 'off_on', dataType: DataType.FLOAT, dims: [2], data: Float32Array.of(0, 1) }),
      tensorProto({ name: 'inv_rows', dataType: DataType.FLOAT, dims: [], data: Float32Array.of(1 / rows) }),
    ],
    inputs: [
      valueInfo('logits', DataType.FLOAT, [rows, classes]),
      valueInfo('labels', DataType.INT64, [rows]),
    ],
    outputs: [
      valueInfo('loss', DataType.FLOAT, []),
      valueInfo('grad', DataType.FLOAT, [rows, classes]),
    ],
  });
}

/**
 * The same outputs as crossEntropyWithGradModel, from a leaner graph an ORT-savvy user could
 * write: grad = ScatterElements(Softmax(logits) * (1/rows), labels, -1/rows, reduction='add'),
 * i.e. the one-hot subtraction touches one element per row instead of materializing an
 * [rows, classes] one-hot tensor and subtracting it. Needs opset 16 (ScatterElements reduction).
 * Measured about 1.5-2x faster than the OneHot graph at 128x1000 on both ORT builds, so it is
 * offered as the stronger peer for the fused loss+grad op.
 */
export function crossEntropyWithGradScatterModel(rows, classes) {
  return model({
    name: 'cross_entropy_with_grad_scatter',
    opset: 16,
    nodes: [
      node('SoftmaxCrossEntropyLoss', ['logits', 'labels'], ['loss'], { reduction: 'mean' }),
      node('Softmax', ['logits'], ['probs'], { axis: -1 }),
      node('Mul', ['probs', 'inv_rows'], ['scaled']),
      node('Unsqueeze', ['labels', 'axis1'], ['labels_col']),
      node('ScatterElements', ['scaled', 'labels_col', 'neg_inv_rows'], ['grad'], { axis: 1, reduction: 'add' }),
    ],
    initializers: [
      tensorProto({ name: 'inv_rows', dataType: DataType.FLOAT, dims: [], data: Float32Array.of(1 / rows) }),
      tensorProto({ name: 'axis1', dataType: DataType.INT64, dims: [1], data: BigInt64Array.of(1n) }),
      tensorProto({
        name: 'neg_inv_rows',
        dataType: DataType.FLOAT,
        dims: [rows, 1],
        data: new Float32Array(rows).fill(-1 / rows),
      }),
    ],
    inputs: [
      valueInfo('logits', DataType.FLOAT, [rows, classes]),
      valueInfo('labels', DataType.INT64, [rows]),
    ],
    outputs: [
      valueInfo('loss', DataType.FLOAT, []),
      valueInfo('grad', DataType.FLOAT, [rows, classes]),
    ],
  });
}
