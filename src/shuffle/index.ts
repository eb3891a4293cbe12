export * from "./layout.js";
export * from "./segments.js";
export * from "./manifest.js";
