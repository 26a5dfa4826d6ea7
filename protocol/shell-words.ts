// `--upstream-command "node server.js --flag 'two words'"` (and the pod annotation
// mcpwarden.dev/upstream-command) split into argv the way a POSIX shell would split words — quotes and backslashes only: no variables, globs, pipes or
// any other shell feature, and no shell is ever run.

export type ShellWords = { ok: true; words: string[] } | { ok: false; message: string };

export function splitShellWords(text: string): ShellWords {
  const words: string[] = [];
  let word = "";
  let inWord = false;
  let quote: "'" | '"' | undefined;
  for (let i = 0; i < text.length; i++) {
    const c = text[i] as string;
    if (quote === "'") {
      if (c === "'") quote = undefined;
      else word += c;
    } else if (quote === '"') {
      if (c === '"') quote = undefined;
      else if (c === "\\" && i + 1 < text.length && '"\\$`\n'.includes(text[i + 1] as string)) {
        // Inside double quotes a backslash escapes only these (POSIX 2.2.3); an escaped newline disappears.
        if (text[i + 1] !== "\n") word += text[i + 1];
        i++;
      } else word += c;
    } else if (c === "'" || c === '"') {
      quote = c;
      inWord = true;
    } else if (c === "\\") {
      if (i + 1 >= text.length) return { ok: false, message: "ends with a lone backslash" };
      if (text[i + 1] !== "\n") word += text[i + 1];
      i++;
      inWord = true;
    } else if (c === " " || c === "\t" || c === "\n") {
      if (inWord) words.push(word);
      word = "";
      inWord = false;
    } else {
      word += c;
      inWord = true;
    }
  }
  if (quote !== undefined) return { ok: false, message: `has an unterminated ${quote === "'" ? "single" : "double"} quote` };
  if (inWord) words.push(word);
  if (words.length === 0) return { ok: false, message: "is empty" };
  return { ok: true, words };
}
