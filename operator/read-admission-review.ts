// The body of an AdmissionReview request, shared by the webhook handlers: past the
// handler's limit the request is refused rather than buffered.
import type { IncomingMessage } from "node:http";
import { errorText } from "./operator-logger.ts";

export function readAdmissionReview(request: IncomingMessage, limit: number): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        reject(new Error(`the AdmissionReview is larger than ${limit} bytes`));
        request.destroy();
      } else chunks.push(chunk);
    });
    request.on("end", () => {
      try {
        resolve(JSON.parse(Buffer.concat(chunks).toString("utf8")));
      } catch (error) {
        reject(new Error(`the body is not JSON: ${errorText(error)}`));
      }
    });
    request.on("error", reject);
  });
}
