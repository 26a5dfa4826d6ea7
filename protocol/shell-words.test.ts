import { describe, expect, it } from "vitest";
import { splitShellWords } from "./shell-words.ts";

describe("splitShellWords", () => {
  it.each([
    ["node server.js", ["node", "server.js"]],
    ["  npx  -y   @scope/pkg  ", ["npx", "-y", "@scope/pkg"]],
    [`python -c 'print("hi there")'`, ["python", "-c", 'print("hi there")']],
    [`cmd "a \\"quoted\\" word" 'it''s'`, ["cmd", 'a "quoted" word', "its"]],
    [`cmd "$HOME" '*' a\\ b`, ["cmd", "$HOME", "*", "a b"]],
    [`cmd "" ''`, ["cmd", "", ""]],
    [`cmd "back\\slash" 'back\\slash'`, ["cmd", "back\\slash", "back\\slash"]],
    ["cmd a;b | c", ["cmd", "a;b", "|", "c"]],
  ])("%s", (text, words) => {
    expect(splitShellWords(text)).toEqual({ ok: true, words });
  });

  it.each([
    ["", "is empty"],
    ["   ", "is empty"],
    [`cmd 'open`, "has an unterminated single quote"],
    [`cmd "open`, "has an unterminated double quote"],
    ["cmd \\", "ends with a lone backslash"],
  ])("refuses %j", (text, message) => {
    expect(splitShellWords(text)).toEqual({ ok: false, message });
  });
});
