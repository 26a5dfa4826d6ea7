export { FilePolicySource } from "./file-policy-source.ts";
