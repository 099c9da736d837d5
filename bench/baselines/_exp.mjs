import { model, node, valueInfo, tensorProto, DataType, crossEntropyWithGradModel } from './onnx-model.mjs';
import { makeInputs, crossEntropyGrad64, crossEntropyMean64, assertClose } from './reference64.mjs';
import ortNode from 'onnxruntime-node';
import * as ortWeb from 'onnxruntime-web';
ortWeb.env.wasm.numThreads = 1;
function variantB(rows, classes) {
  return model({ name: 'b', nodes: [
      node('SoftmaxCrossEntropyLoss', ['logits', 'labels'], ['loss', 'logp'], { reduction: 'mean' }),
      node('Exp', ['logp'], ['probs']),
      node('OneHot', ['labels', 'depth', 'off_on'], ['onehot'], { axis: -1 }),
      node('Sub', ['probs', 'onehot'], ['diff']),
      node('Mul', ['diff', 'inv_rows'], ['grad'])],
    initializers: [
      tensorProto({ name: 'depth', dataType: DataType.INT64, dims: [], data: BigInt64Array.of(BigInt(classes)) }),
      tensorProto({ name: 'off_on', dataType: DataType.FLOAT, dims: [2], data: Float32Array.of(0, 1) }),
      tensorProto({ name: 'inv_rows', dataType: DataType.FLOAT, dims: [], data: Float32Array.of(1 / rows) })],
    inputs: [valueInfo('logits', DataType.FLOAT, [rows, classes]), valueInfo('labels', DataType.INT64, [rows])],
    outputs: [valueInfo('loss', DataType.FLOAT, []), valueInfo('grad', DataType.FLOAT, [rows, classes])] });
}
function variantC(rows, classes) {
  return model({ name: 'c', opset: 16, nodes: [
      node('SoftmaxCrossEntropyLoss', ['logits', 'labels'], ['loss'], { reduction: 'mean' }),
      node('Softmax', ['logits'], ['probs'], { axis: -1 }),
      node('Mul', ['probs', 'inv_rows'], ['scaled']),
      node('Unsqueeze', ['labels', 'ax1'], ['lab2']),
      node('ScatterElements', ['scaled', 'lab2', 'neg'], ['grad'], { axis: 1, reduction: 'add' })],
    initializers: [
      tensorProto({ name: 'ax1', dataType: DataType.INT64, dims: [1], data: BigInt64Array.of(1n) }),
      tensorProto({ name: 'neg', dataType: DataType.FLOAT, dims: [rows, 1], data: new Float32Array(rows).fill(-1 / rows) }),
      tensorProto({ name: 'inv_rows', dataType: DataType.FLOAT, dims: [], data: Float32Array.of(1 / rows) })],
    inputs: [valueInfo('logits', DataType.FLOAT, [rows, classes]), valueInfo('labels', DataType.INT64, [rows])],
    outputs: [valueInfo('loss', DataType.FLOAT, []), valueInfo('grad', DataType.FLOAT, [rows, classes])] });
}
for (const [ort, ep] of [[ortNode, 'cpu'], [ortWeb, 'wasm']]) for (const [rows, classes] of [[1,10],[128,1000],[32,32000]]) {
  const { logits, labels } = makeInputs(rows, classes);
  const g = crossEntropyGrad64(logits, labels, rows, classes), l = crossEntropyMean64(logits, labels, rows, classes);
  for (const [nm, mk] of [['A', crossEntropyWithGradModel], ['B', variantB], ['C', variantC]]) {
    const s = await ort.InferenceSession.create(mk(rows, classes), { executionProviders: [ep], intraOpNumThreads: 1, interOpNumThreads: 1 });
    const feeds = { logits: new ort.Tensor('float32', logits, [rows, classes]), labels: new ort.Tensor('int64', BigInt64Array.from(labels, BigInt), [rows]) };
    let out = await s.run(feeds);
    assertClose(out.grad.data, g, { rtol: 1e-4, atol: 1e-6 / rows }, nm); assertClose(out.loss.data[0], l, { rtol: 1e-5 }, nm);
    const n = Math.max(20, Math.round(3e7 / (rows * classes)));
    for (let i = 0; i < 5; i++) await s.run(feeds);
    const t = performance.now(); for (let i = 0; i < n; i++) out = await s.run(feeds);
    const dt = (performance.now() - t) / n;
    console.log(ep, `${rows}x${classes}`, nm, ((rows * classes) / dt / 1e3).toFixed(1) + 'M/s');
    await s.release();
  }
}
