/** Every built-in worker function: the entry module the CLI's thread and process pools load. */
import "./upload-partition.js";
import "./demo.js";
import "./sql-stage.js";
