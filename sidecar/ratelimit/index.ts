export { MemoryRateLimitStore } from "./memory-store.ts";
