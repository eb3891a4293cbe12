export { Manager, type ManagerOptions } from "./manager.js";
export { Job, type JobOptions, type StageOptions } from "./job.js";
export { Stage } from "./stage.js";
export { systemClock, VirtualClock, type Clock } from "./clock.js";
export type { TaskResult } from "./types.js";
export { pickSpeculative, median } from "./speculation.js";
