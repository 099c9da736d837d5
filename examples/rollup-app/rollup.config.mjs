// The ordinary Rollup setup for an app that uses npm packages: node-resolve finds them in
// node_modules. Nothing here is specific to softmax-wasm (no wasm plugin, no asset copying).
import { nodeResolve } from '@rollup/plugin-node-resolve';

export default {
  input: 'src/main.js',
  output: { file: 'dist/main.js', format: 'es' },
  plugins: [nodeResolve({ browser: true })],
};
