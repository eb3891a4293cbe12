#!/usr/bin/env node
// The bootstrap of a Smelter Lambda function (a custom runtime, or RIE in tests): serves
// invocations with smelter/lambda's handler on the Runtime API loop. See docs/backends/lambda.md.
import { handler, runRuntimeLoop } from "../dist/src/lambda.js";
await runRuntimeLoop(async () => handler);
