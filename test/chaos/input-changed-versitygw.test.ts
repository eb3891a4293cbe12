/** test/chaos/input-changed.ts on versitygw (installed by scripts/install-s3-server.sh when missing). */
import "../helpers/s3-complete.js";
import { inputChangedSuite } from "./input-changed.js";

inputChangedSuite("versitygw");
