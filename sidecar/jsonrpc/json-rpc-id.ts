// The id of a JSON-RPC request, on its own so that the error codes (error-codes.ts) and
// the message reader (message.ts, which refuses with those codes) need not import each other.

export type JsonRpcId = string | number;
