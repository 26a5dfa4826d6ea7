// One raw HTTP exchange, as a client on the wire sees it: any method, any request target
// (absolute-form included), and either the whole answer or the error that ended it (an
// oversized body may be cut off with a reset before or after the answer arrives).
import { request } from "node:http";

export interface HttpAnswer {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly text: string;
}

export interface HttpExchange {
  method?: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
}

export function exchange(port: number, target: string, options: HttpExchange = {}): Promise<HttpAnswer | { error: string }> {
  return new Promise((resolve) => {
    const req = request({ host: "127.0.0.1", port, path: target, method: options.method ?? "GET", headers: options.headers ?? {} }, (response) => {
      let text = "";
      response.setEncoding("utf8");
      response.on("data", (chunk: string) => (text += chunk));
      response.on("end", () => resolve({ status: response.statusCode ?? 0, headers: response.headers, text }));
      response.on("error", (error) => resolve({ error: error.message }));
    });
    req.on("error", (error) => resolve({ error: error.message }));
    req.end(options.body);
  });
}

/** The answer, or a failed expectation naming the error that ended the exchange instead. */
export async function answer(port: number, target: string, options: HttpExchange = {}): Promise<HttpAnswer> {
  const result = await exchange(port, target, options);
  if ("error" in result) throw new Error(`${options.method ?? "GET"} ${target}: ${result.error}`);
  return result;
}
