/**
 * Identifiers: quoting and parsing, MySQL's filename encoding, the four-form
 * table filter, `--rename` parsing and command-line character sets.
 */
export * from "./quote.ts";
export * from "./filename.ts";
export * from "./filter.ts";
export * from "./rename.ts";
export * from "./charset.ts";
