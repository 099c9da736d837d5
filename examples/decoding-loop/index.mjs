// A plain-Node decoding loop over a Float32Array of logits: `node index.mjs [steps] [seed]`.
// The "model" is a toy: a fixed random bigram table over a 32000-token vocabulary, whose row for
// the last token is the next step's logits. Each step applies the repetition and frequency
// penalties of the tokens so far, temperature, top-k, top-p and min-p, and draws the next token
// from seeded uniforms (the same tokens on every run); it also prints the
// chosen token's probability and the step's top-3 candidates.
import { init, sample, samplingDistribution, topK } from 'softmax-wasm';

const V = 32000;
const steps = Number(process.argv[2] ?? 12);
let seed = Number(process.argv[3] ?? 7);
const random = () => {
  // mulberry32: seeded uniforms in [0, 1)
  seed = (seed + 0x6d2b79f5) | 0;
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
};

/** The toy model: the logits of the token after `last` (a deterministic function of it). */
const logits = new Float32Array(V);
function forward(last) {
  let s = (last * 2654435761) >>> 0;
  for (let i = 0; i < V; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    logits[i] = (s / 4294967296) * 8 - 4; // a flat bulk...
  }
  for (let j = 1; j <= 40; j++) logits[(last * 31 + j * 977) % V] += 10 - 2 * Math.log(j); // ...and a head
  return logits;
}

await init();
const options = { classes: V, temperature: 0.8, topK: 50, topP: 0.9, minP: 0.02, repetitionPenalty: 1.2, frequencyPenalty: 0.3 };
const tokens = [1];
for (let step = 0; step < steps; step++) {
  const x = forward(tokens[tokens.length - 1]);
  const o = { ...options, previousTokens: tokens };
  const [next] = sample(x, { ...o, random });
  const p = samplingDistribution(x, o)[next];
  const { indices } = topK(x, 3, { classes: V });
  console.log(`step ${String(step).padStart(2)}: token ${String(next).padStart(5)} (p = ${p.toFixed(4)}), top-3 logits ${Array.from(indices).join(' ')}`);
  tokens.push(next);
}
console.log(JSON.stringify({ app: 'decoding-loop', tokens }));
