// Types of reference-dd.mjs (double-double references), for the TypeScript tests.
export interface DD { hi: number; lo: number }
export function twoSum(a: number, b: number): DD;
export function add(a: DD, b: DD): DD;
export function mul(a: DD, b: DD): DD;
export function div(a: DD, b: DD): DD;
export function neg(a: DD): DD;
export function dd(a: number): DD;
export function exp(x: DD): DD;
export function log(a: DD): DD;
export function toNumber(a: DD): number;
export function softmaxRow(x: ArrayLike<number>): { p: DD[]; logp: DD[]; lse: DD; d: DD[]; logS: DD };
export function ulps64(out: number, ref: DD): number;
