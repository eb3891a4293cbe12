/** test/chaos/input-changed.ts on s3rver. */
import { inputChangedSuite } from "./input-changed.js";

inputChangedSuite("s3rver");
