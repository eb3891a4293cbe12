/** `smelter/query`: running queries over object storage (SQL plans, Query 2) on the engine. */
export { executePlan, executePrepared, type ExecuteOptions, type ExecuteResult, type ExecuteHooks, type ResultObject } from "./execute.js";
export { prepareQuery, listTables, preparedJson, type PreparedQuery, type PreparedStage, type PreparedTask } from "./prepare.js";
export { runQuery2, query2Sql, query2OptionsSchema, USERVISITS_COLUMNS, type Query2Options, type Query2Result } from "./query2.js";
export { planQuery, type SqlPlan, type PlanOptions } from "../sql/plan.js";
