// Baseline: the plain-JavaScript implementation a careful user would write by hand over
// Float32Arrays. It is numerically sound (subtracts the row max, uses log-sum-exp for the loss)
// and allocation-free per call, but scalar: JS numbers are doubles, so each element is widened to
// f64, Math.exp'd in f64 and rounded back to f32 on store. No SIMD, one thread.

/** @typedef {import('./types.mjs').Baseline} Baseline */

/** @returns {Promise<Baseline>} */
export default async function create() {
  return {
    name: 'naive JS (f32 arrays)',
    isAsync: false,

    prepareSoftmax(logits, rows, classes) {
      const out = new Float32Array(rows * classes);
      return {
        run() {
          softmaxRows(logits, out, rows, classes);
        },
        result: () => out,
      };
    },

    prepareLogSoftmax(logits, rows, classes) {
      const out = new Float32Array(rows * classes);
      return {
        run() {
          for (let r = 0, o = 0; r < rows; r++, o += classes) {
            const lse = logSumExpRow(logits, o, classes);
            for (let j = o; j < o + classes; j++) out[j] = logits[j] - lse;
          }
        },
        result: () => out,
      };
    },

    prepareCrossEntropy(logits, labels, rows, classes) {
      let loss = NaN;
      return {
        run() {
          let sum = 0;
          for (let r = 0, o = 0; r < rows; r++, o += classes) {
            sum += logSumExpRow(logits, o, classes) - logits[o + labels[r]];
          }
          loss = sum / rows;
        },
        result: () => loss,
      };
    },

    prepareCrossEntropyWithGrad(logits, labels, rows, classes) {
      const grad = new Float32Array(rows * classes);
      let loss = NaN;
      return {
        // One pass for the max, one writing exp(x - max) into grad while summing, one scaling:
        // the usual hand-fused form, which avoids computing exp twice per element.
        run() {
          const invRows = 1 / rows;
          let sum = 0;
          for (let r = 0, o = 0; r < rows; r++, o += classes) {
            const end = o + classes;
            let max = -Infinity;
            for (let j = o; j < end; j++) if (logits[j] > max) max = logits[j];
            let s = 0;
            for (let j = o; j < end; j++) {
              const e = Math.exp(logits[j] - max);
              grad[j] = e;
              s += e;
            }
            const t = o + labels[r];
            sum += max + Math.log(s) - logits[t];
            const scale = invRows / s;
            for (let j = o; j < end; j++) grad[j] *= scale;
            grad[t] -= invRows;
          }
          loss = sum / rows;
        },
        result: () => ({ loss, grad }),
      };
    },

    dispose() {},
  };
}

function softmaxRows(x, out, rows, classes) {
  for (let r = 0, o = 0; r < rows; r++, o += classes) {
    const end = o + classes;
    let max = -Infinity;
    for (let j = o; j < end; j++) if (x[j] > max) max = x[j];
    let s = 0;
    for (let j = o; j < end; j++) {
      const e = Math.exp(x[j] - max);
      out[j] = e;
      s += e;
    }
    const inv = 1 / s;
    for (let j = o; j < end; j++) out[j] *= inv;
  }
}

function logSumExpRow(x, o, classes) {
  const end = o + classes;
  let max = -Infinity;
  for (let j = o; j < end; j++) if (x[j] > max) max = x[j];
  let s = 0;
  for (let j = o; j < end; j++) s += Math.exp(x[j] - max);
  return max + Math.log(s);
}
