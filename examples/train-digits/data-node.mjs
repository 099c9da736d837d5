// Reads the bundled dataset (examples/data/digits.csv.gz) with Node's own zlib: nothing is
// downloaded. The browser demo fetches the same file and decompresses it with DecompressionStream.
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';

/** The path of the gzip-compressed digits CSV. */
export const DIGITS_CSV_GZ = new URL('../data/digits.csv.gz', import.meta.url);

/** The digits CSV as text. */
export function readDigitsCsv() {
  return gunzipSync(readFileSync(DIGITS_CSV_GZ)).toString('utf8');
}
