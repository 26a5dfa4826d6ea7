export { createIdentityResolver } from "./identity-resolver.ts";
