/**
 * @module Types for Vite's `?raw` imports, which tests use to read docs without importing node:fs.
 */
declare module '*?raw' {
  const text: string;
  export default text;
}
