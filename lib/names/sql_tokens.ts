/**
 * A small SQL tokenizer for the statements `SHOW CREATE ...` returns: enough to
 * find identifiers (bare, backtick-quoted, and double-quoted under ANSI_QUOTES)
 * and tell them apart from string literals and comments, so names can be
 * rewritten without touching anything else. Executable comments (`/*!50003 ...`,
 * `/*M!...`) are code: their opener and closer are punctuation tokens and what is
 * between them is tokenized. Positions are UTF-16 offsets into the text; joining
 * every token's text gives the input back.
 */

/** What a token is. */
export type TokenKind =
  | "space"
  | "comment"
  | "string"
  | "ident" // quoted identifier
  | "word" // bare word: identifier, keyword or number
  | "punct";

/** One token of SQL text. */
export interface Token {
  kind: TokenKind;
  /** The text exactly as in the input. */
  text: string;
  start: number;
  end: number;
  /** Identifiers (quoted or bare words): the name, quotes removed; strings: the raw inside. */
  value: string;
}

/** How to read the text (from the object's recorded sql_mode). */
export interface TokenizeOptions {
  /** sql_mode has ANSI_QUOTES: `"x"` is an identifier, not a string. */
  ansiQuotes?: boolean;
  /** sql_mode has NO_BACKSLASH_ESCAPES: a backslash in a string is a plain character. */
  noBackslashEscapes?: boolean;
}

/** Tokenize options from an sql_mode value (comma-separated flags). */
export function optionsForSqlMode(sqlMode: string | undefined): TokenizeOptions {
  const flags = new Set((sqlMode ?? "").toUpperCase().split(",").map((s) => s.trim()));
  return {
    ansiQuotes: flags.has("ANSI_QUOTES") || flags.has("ANSI"),
    noBackslashEscapes: flags.has("NO_BACKSLASH_ESCAPES"),
  };
}

const WORD = /[A-Za-z0-9_$\u0080-\uffff]/;

/** Split `text` into tokens (see the module documentation). Never throws: an unterminated quote runs to the end. */
export function tokenize(text: string, opts: TokenizeOptions = {}): Token[] {
  const out: Token[] = [];
  let i = 0;
  const push = (kind: TokenKind, start: number, end: number, value?: string) =>
    out.push({ kind, text: text.slice(start, end), start, end, value: value ?? "" });
  while (i < text.length) {
    const c = text[i];
    const start = i;
    if (/\s/.test(c)) {
      while (i < text.length && /\s/.test(text[i])) i++;
      push("space", start, i);
    } else if (
      c === "#" || (c === "-" && text[i + 1] === "-" && /[\s]|^$/.test(text[i + 2] ?? ""))
    ) {
      while (i < text.length && text[i] !== "\n") i++;
      push("comment", start, i);
    } else if (c === "/" && text[i + 1] === "*") {
      const exec = /^\/\*M?!\d*/.exec(text.slice(i, i + 12));
      if (exec) {
        i += exec[0].length;
        push("punct", start, i, exec[0]);
      } else {
        const close = text.indexOf("*/", i + 2);
        i = close < 0 ? text.length : close + 2;
        push("comment", start, i);
      }
    } else if (c === "*" && text[i + 1] === "/") {
      i += 2;
      push("punct", start, i, "*/");
    } else if (c === "`" || c === "'" || (c === '"')) {
      const asIdent = c === "`" || (c === '"' && opts.ansiQuotes === true);
      const escapes = !asIdent && !opts.noBackslashEscapes;
      let value = "";
      i++;
      while (i < text.length) {
        const ch = text[i];
        if (escapes && ch === "\\" && i + 1 < text.length) {
          value += ch + text[i + 1];
          i += 2;
          continue;
        }
        if (ch === c) {
          if (text[i + 1] === c) {
            value += asIdent ? c : c + c;
            i += 2;
            continue;
          }
          i++;
          break;
        }
        value += ch;
        i++;
      }
      push(asIdent ? "ident" : "string", start, i, value);
    } else if (WORD.test(c)) {
      while (i < text.length && WORD.test(text[i])) i++;
      push("word", start, i, text.slice(start, i));
    } else {
      i++;
      push("punct", start, i, c);
    }
  }
  return out;
}

/** True for tokens that name something (a quoted identifier or a bare word). */
export function isName(t: Token | undefined): t is Token {
  return t !== undefined && (t.kind === "ident" || t.kind === "word");
}

/** True for a bare word equal to `keyword` in any letter case. */
export function isKeyword(t: Token | undefined, keyword: string): boolean {
  return t !== undefined && t.kind === "word" && t.value.toUpperCase() === keyword.toUpperCase();
}

/** True for tokens without meaning to the parser (white space, comments). */
export function isTrivia(t: Token): boolean {
  return t.kind === "space" || t.kind === "comment";
}

/** Index of the next token after `i` that is not white space or a comment, or -1. */
export function nextCode(tokens: Token[], i: number): number {
  for (let j = i + 1; j < tokens.length; j++) if (!isTrivia(tokens[j])) return j;
  return -1;
}

/** Index of the previous token before `i` that is not white space or a comment, or -1. */
export function prevCode(tokens: Token[], i: number): number {
  for (let j = i - 1; j >= 0; j--) if (!isTrivia(tokens[j])) return j;
  return -1;
}

/** A dotted name found in SQL text: its parts and the token index of each part. */
export interface DottedName {
  parts: string[];
  /** Token indexes of the parts. */
  at: number[];
}

/**
 * Read a dotted name (`a`, `a.b`, `a . b . c`) whose first part is token `i`;
 * undefined when token `i` is not a name.
 */
export function readDottedName(tokens: Token[], i: number): DottedName | undefined {
  if (!isName(tokens[i])) return undefined;
  const name: DottedName = { parts: [tokens[i].value], at: [i] };
  let j = i;
  while (true) {
    const dot = nextCode(tokens, j);
    if (dot < 0 || tokens[dot].text !== ".") break;
    const part = nextCode(tokens, dot);
    if (part < 0 || !isName(tokens[part])) break;
    name.parts.push(tokens[part].value);
    name.at.push(part);
    j = part;
  }
  return name;
}

/** Join tokens back into text, with `replace` giving new text for some token indexes. */
export function joinTokens(tokens: Token[], replace: Map<number, string> = new Map()): string {
  return tokens.map((t, i) => replace.get(i) ?? t.text).join("");
}
