/**
 * The Lambda Runtime API loop for the test functions: Smelter's own (src/backends/lambda/runtime-api.ts),
 * the bootstrap of the `smelter/lambda` handler.
 */
export { runRuntimeLoop, runtimeError, type LambdaContext, type LambdaHandler } from "../../src/backends/lambda/runtime-api.js";
