// Types of the two undici modules upstream-agent.ts imports directly (undici types only its index).
declare module "undici/lib/dispatcher/agent.js" {
  import { Agent } from "undici";
  export default Agent;
}

declare module "undici/lib/api/index.js" {
  import type { Dispatcher } from "undici";
  const api: { request(this: Dispatcher, options: Dispatcher.RequestOptions): Promise<Dispatcher.ResponseData> };
  export default api;
}
