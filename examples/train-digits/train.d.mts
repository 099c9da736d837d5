// Types of train.mjs (the demo is plain JavaScript so that `npm start` runs it with plain node).
export { init, backend } from 'softmax-wasm';

export declare function ready(): Promise<string>;

export declare const FEATURES: 64;
export declare const CLASSES: 10;
export declare const SPLIT_SEED: number;
export declare const TEST_FRACTION: number;

export type Optimizer = 'sgd' | 'adam';

export interface TrainOptions {
  epochs?: number;
  batch?: number;
  /** Default: DEFAULT_LR[optimizer]. */
  lr?: number;
  /** 0: softmax regression; > 0: one-hidden-layer MLP with this many ReLU units. */
  hidden?: number;
  labelSmoothing?: number;
  seed?: number;
  optimizer?: Optimizer;
}
export type ResolvedOptions = Required<TrainOptions>;

export declare const DEFAULTS: Readonly<Omit<ResolvedOptions, 'lr'> & { lr: undefined }>;
export declare const DEFAULT_LR: Readonly<Record<Optimizer, number>>;

export declare function rng(seed: number): () => number;

export interface DigitSet {
  /** Standardized pixels, n x 64. */
  x: Float32Array;
  /** The raw pixels (0..16), n x 64. */
  raw: Float32Array;
  y: Int32Array;
  n: number;
  /** Row of each sample in digits.csv. */
  index: Int32Array;
}
export interface DigitsData {
  train: DigitSet;
  test: DigitSet;
  mean: Float64Array;
  std: Float64Array;
  total: number;
}

export declare function parseDigitsCsv(text: string): { pixels: Float32Array; labels: Int32Array; n: number };
export declare function prepareData(csvText: string): DigitsData;
export declare function resolveOptions(options?: TrainOptions): ResolvedOptions;
export declare function describeModel(hidden: number): string;

export interface EpochStats {
  epoch: number;
  /** Mean training loss over the epoch's mini-batches. */
  loss: number;
  trainAccuracy: number;
  testAccuracy: number;
  /** Seconds spent in the training steps. */
  seconds: number;
  examplesPerSecond: number;
}
export interface Evaluation {
  logits: Float32Array;
  predictions: Int32Array;
  correct: number;
  accuracy: number;
}
export interface Trainer {
  readonly options: ResolvedOptions;
  readonly paramCount: number;
  readonly epoch: number;
  describe(): string;
  runEpoch(onBatch?: (done: number, total: number) => void): EpochStats;
  evaluate(set: DigitSet): Evaluation;
  testProbabilities(): Float32Array;
  confusion(): Int32Array;
  parameters(): Float32Array[];
}

export declare function createTrainer(data: DigitsData, options?: TrainOptions): Trainer;
export declare function confusionMatrix(labels: ArrayLike<number>, predictions: ArrayLike<number>): Int32Array;
export declare function formatConfusion(counts: Int32Array): string;
export declare function train(
  data: DigitsData,
  options?: TrainOptions,
  onEpoch?: (stats: EpochStats) => void,
): { trainer: Trainer; history: EpochStats[]; testAccuracy: number };
