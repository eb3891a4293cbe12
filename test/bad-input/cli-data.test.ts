/**
 * The bad-input corpus through the CLI (cases.ts), part 1 of 3, the data: CSV, Parquet, empty and huge inputs, a full disk. Every case
 * ends with a clear error in Smelter's words, or with its documented policy (`--bad-rows skip`,
 * counted), never a hang or a stack trace. The corpus is cut in three files so each stays short.
 */
import { describeCliCases } from "./harness.js";

describeCliCases("bad input through the CLI: the data: CSV, Parquet, empty and huge inputs, a full disk", ["csv", "parquet", "empty/huge", "full disk"]);
