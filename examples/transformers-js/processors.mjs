// softmax-wasm for @huggingface/transformers (transformers.js): a logits processor that applies
// temperature, top-k, top-p and min-p with Hugging Face Transformers' semantics (transformers.js's
// own TopP/TopK warpers have no call body: `top_p` is silently ignored there), and a sampling step
// over a Tensor of logits. Neither needs the package itself: both work on its Tensor interface
// (`data`, `dims`, `type`), so this file imports only softmax-wasm.
import { sample, samplingDistribution } from 'softmax-wasm';

/** The float logits of a Tensor-like ({ data, dims, type }) as rows of the vocabulary: the last
 *  dimension is the vocabulary, every other position one row. */
function rowsOf(logits, fn) {
  if (!logits || !Array.isArray(logits.dims) || !(logits.data instanceof Float32Array || logits.data instanceof Float64Array)) {
    throw new TypeError(`${fn}: logits must be a Tensor of type 'float32' or 'float64' (got ${logits?.type ?? typeof logits}); convert float16 logits first`);
  }
  return { data: logits.data, dims: logits.dims, V: logits.dims[logits.dims.length - 1] };
}

/**
 * A logits processor for transformers.js: a function (input_ids, logits) => logits, as the
 * processors of its LogitsProcessorList are called, with `_call` for code that calls that. It
 * replaces each row of the [batch, vocab] logits Tensor, in place, by the log of
 * softmax-wasm's sampling distribution: kept tokens get their log-probability, removed ones
 * -Infinity, so a later softmax or sampler sees exactly the distribution Transformers' warpers give.
 * @param {{ temperature?: number, topK?: number, topP?: number, minP?: number, minTokensToKeep?: number,
 *   repetitionPenalty?: number }} options  (repetitionPenalty uses input_ids as the previous tokens)
 */
export function createSamplingProcessor(options = {}) {
  const { repetitionPenalty, ...warp } = options;
  const call = (inputIds, logits) => {
    const { data, V } = rowsOf(logits, 'samplingProcessor');
    const rows = data.length / V;
    const opts = { classes: V, ...warp };
    if (repetitionPenalty !== undefined && repetitionPenalty !== 1) {
      // transformers.js passes the ids generated so far as bigint[][] (one array per row).
      opts.repetitionPenalty = repetitionPenalty;
      opts.previousTokens = Array.from({ length: rows }, (_, r) => (inputIds?.[r] ?? []).map(Number));
    }
    const p = samplingDistribution(data, opts);
    for (let i = 0; i < data.length; i++) data[i] = p[i] > 0 ? Math.log(p[i]) : -Infinity;
    return logits;
  };
  call._call = call;
  return call;
}

/**
 * The next token of each sequence: `logits` is the model's output Tensor, [batch, vocab] or
 * [batch, seq, vocab] (then each sequence's last position is used). Options are those of
 * softmax-wasm's `sample` (temperature, topK, topP, minP, penalties, uniforms or random).
 * Returns a BigInt64Array of token ids (transformers.js's input_ids are int64).
 */
export function sampleNextTokens(logits, options = {}) {
  const { data, dims, V } = rowsOf(logits, 'sampleNextTokens');
  const batch = dims[0];
  const seq = dims.length === 3 ? dims[1] : 1;
  let rows = data;
  if (seq > 1) {
    rows = new data.constructor(batch * V);
    for (let b = 0; b < batch; b++) rows.set(data.subarray(((b + 1) * seq - 1) * V, (b + 1) * seq * V), b * V);
  }
  const ids = sample(rows, { classes: V, ...options });
  return BigInt64Array.from(ids, (t) => BigInt(t));
}
