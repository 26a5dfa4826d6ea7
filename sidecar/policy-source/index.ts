export { FilePolicySource, type FilePolicySourceOptions } from "./file-policy-source.ts";
export { readPolicyFiles, policyRevision, snapshotFromFiles, policyLayerName, type PolicyFile } from "./policy-files.ts";
