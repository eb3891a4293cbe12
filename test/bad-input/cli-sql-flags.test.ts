/**
 * The bad-input corpus through the CLI (cases.ts), part 3 of 3, what is asked: SQL and the flags of every command. Every case
 * ends with a clear error in Smelter's words, or with its documented policy (`--bad-rows skip`,
 * counted), never a hang or a stack trace. The corpus is cut in three files so each stays short.
 */
import { describeCliCases } from "./harness.js";

describeCliCases("bad input through the CLI: what is asked: SQL and the flags of every command", ["sql", "flags"]);
