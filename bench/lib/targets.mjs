// The "Targets" sections of issue 4 and of the small-class issue, evaluated on this run's numbers. Each line says the measured
// value, the target and ✓/✗; lines marked (info) carry no target (the ORT scatter graph, which a
// performance-minded ORT user could write, is reported next to the default graph).

import { fmtRate, fmtRatio, fmtNs } from './format.mjs';

const S32K = [32, 32000];
const S4096 = [4096, 1000];
const S128K = [8, 128256];
const S1x10 = [1, 10];
const lbl = ([r, c]) => `[${r},${c}]`;

/**
 * @param {(op: string, shape: number[], id: string) => number | undefined} rateOf elements/s
 * @param {(op: string, shape: number[], id: string) => any} get the entry (medianNs etc.)
 * @returns {{ line: string, target: boolean, met: boolean | null, value: number | null, threshold: number | null, what: string }[]}
 */
export function evaluateTargets(rateOf, get) {
  const out = [];
  const push = (what, value, threshold, kind, { info = false, below = false } = {}) => {
    const measured = value != null && Number.isFinite(value);
    const met = measured ? (below ? value < threshold : value >= threshold) : null;
    const shown =
      kind === 'ratio' ? fmtRatio(value) : kind === 'rate' ? `${fmtRate(value)} elements/s` : fmtNs(value);
    const tgt =
      kind === 'ratio'
        ? `>= ${threshold}x`
        : kind === 'rate'
          ? `>= ${fmtRate(threshold)} elements/s`
          : `< ${threshold} ns`;
    const mark = met ? '✓' : '✗';
    const line = !measured
      ? `${what}: not measured in this run (${info ? 'info' : `target ${tgt}`})`
      : info
        ? `${what}: ${shown} (info; ${tgt} would be ${mark})`
        : `${what}: ${shown} (target ${tgt}) ${mark}`;
    out.push({ what, value: measured ? value : null, threshold, kind, target: !info, met: info ? null : met, line });
  };
  const ratio = (op, shape, a, b) => {
    const x = rateOf(op, shape, a);
    const y = rateOf(op, shape, b);
    return x != null && y != null ? x / y : null;
  };

  // 1. Fused loss + gradient through crossEntropyWithGrad with gradInto (copies included).
  const vs = [
    ['naive', 'naive', 10],
    ['tfjs-wasm', 'tfjs-wasm', 20],
    ['ort-web', 'onnxruntime-web', 5],
    ['ort-node', 'onnxruntime-node', 2.5],
  ];
  for (const shape of [S32K, S4096]) {
    for (const [id, name, min] of vs) {
      push(`crossEntropyWithGrad API ${lbl(shape)} simd vs ${name}`, ratio('crossEntropyWithGrad', shape, 'simd:api', id), min, 'ratio');
      if (id.startsWith('ort-')) {
        push(
          `crossEntropyWithGrad API ${lbl(shape)} simd vs ${name} [scatter graph]`,
          ratio('crossEntropyWithGrad', shape, 'simd:api', `${id}+scatter`),
          min,
          'ratio',
          { info: true },
        );
      }
    }
  }

  // 2. Through the Workspace (zero-copy).
  push(`crossEntropyWithGrad Workspace ${lbl(S32K)} simd`, rateOf('crossEntropyWithGrad', S32K, 'simd:ws'), 1.0e9, 'rate');
  push(`crossEntropyWithGrad Workspace ${lbl(S4096)} simd`, rateOf('crossEntropyWithGrad', S4096, 'simd:ws'), 0.85e9, 'rate');
  for (const shape of [S32K, S4096]) {
    push(`crossEntropyWithGrad Workspace ${lbl(shape)} simd vs onnxruntime-node`, ratio('crossEntropyWithGrad', shape, 'simd:ws', 'ort-node'), 3.3, 'ratio');
    push(
      `crossEntropyWithGrad Workspace ${lbl(shape)} simd vs onnxruntime-node [scatter graph]`,
      ratio('crossEntropyWithGrad', shape, 'simd:ws', 'ort-node+scatter'),
      3.3,
      'ratio',
      { info: true },
    );
  }

  // 3. softmax alone through softmax with into.
  for (const shape of [S32K, S128K]) {
    push(`softmax API ${lbl(shape)} simd vs tfjs-wasm`, ratio('softmax', shape, 'simd:api', 'tfjs-wasm'), 1.2, 'ratio');
  }

  // 4. [1, 10] per-call overhead.
  push(`crossEntropyWithGrad API ${lbl(S1x10)} simd per call`, get('crossEntropyWithGrad', S1x10, 'simd:api')?.medianNs, 150, 'ns', { below: true });
  push(`crossEntropyWithGrad API ${lbl(S1x10)} simd vs tfjs-wasm`, ratio('crossEntropyWithGrad', S1x10, 'simd:api', 'tfjs-wasm'), 100, 'ratio');

  // 5. relaxed-simd over simd through the Workspace.
  push(
    `crossEntropyWithGrad Workspace ${lbl(S32K)} relaxed-simd vs simd`,
    ratio('crossEntropyWithGrad', S32K, 'relaxed-simd:ws', 'simd:ws'),
    1.35,
    'ratio',
  );
  push(
    `softmax Workspace ${lbl(S32K)} relaxed-simd vs simd`,
    ratio('softmax', S32K, 'relaxed-simd:ws', 'simd:ws'),
    1.35,
    'ratio',
    { info: true },
  );

  // 6. Small classes (the small-class issue): API with into/gradInto against the plain-JS loop, and
  //    float64 against float32 (simd build).
  for (const op of ['crossEntropyWithGrad', 'softmax']) {
    for (const shape of [[64, 10], [256, 10], [1024, 10]]) push(`${op} API ${lbl(shape)} simd vs naive`, ratio(op, shape, 'simd:api', 'naive'), 8, 'ratio');
    push(`${op} API ${lbl([128, 100])} simd vs naive`, ratio(op, [128, 100], 'simd:api', 'naive'), 10, 'ratio');
  }
  push(`crossEntropyWithGrad API ${lbl(S32K)} simd float64 / float32`, ratio('crossEntropyWithGrad', S32K, 'simd:api:f64', 'simd:api'), 0.35, 'ratio');
  return out;
}
