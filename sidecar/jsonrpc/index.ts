export * from "./error-codes.ts";
export * from "./message.ts";
export * from "./parse-messages.ts";
export { DEFAULT_MAX_DEPTH, parseStrictJson, type StrictJsonResult } from "./strict-json.ts";
