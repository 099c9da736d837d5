// Vite, and so vitest in Node and in the browser, imports a file's text with the ?raw suffix
// (test/checked-build.test.ts reads the assert lines of assembly/ that way, without node:fs).
declare module '*?raw' {
  const text: string;
  export default text;
}
