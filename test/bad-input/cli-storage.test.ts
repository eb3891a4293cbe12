/**
 * The bad-input corpus through the CLI (cases.ts), part 2 of 3, where data is: missing objects, credentials and endpoints, outputs. Every case
 * ends with a clear error in Smelter's words, or with its documented policy (`--bad-rows skip`,
 * counted), never a hang or a stack trace. The corpus is cut in three files so each stays short.
 */
import { describeCliCases } from "./harness.js";

describeCliCases("bad input through the CLI: where data is: missing objects, credentials and endpoints, outputs", ["missing", "credentials/endpoints", "outputs"]);
