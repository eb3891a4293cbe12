/** Time as the scheduler sees it: the clock lives in the runtime context (src/job/clock.ts). */
export { systemClock, VirtualClock, type Clock, type TimerHandle } from "../job/clock.js";
