export declare const DIGITS_CSV_GZ: URL;
export declare function readDigitsCsv(): string;
