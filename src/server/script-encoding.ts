/**
 * Encodes a string as a JavaScript string literal that is safe to place inside an HTML
 * `<script>` element (docs/wire.md, "iframe documents").
 *
 * `JSON.stringify` alone is not enough: the HTML tokenizer ends a script at `</script`
 * whatever the JavaScript says, and `<!--` / `<script` switch it into the "escaped" states
 * where a later `</script>` no longer ends the element. Escaping every `<` (and `>`, `&` for
 * good measure) rules all of these out. U+2028/U+2029 are escaped because they were line
 * terminators inside JavaScript string literals before ES2019 (old engines throw a
 * SyntaxError). Lone surrogates come out of Node's well-formed `JSON.stringify` as `\udXXX`
 * escapes, so the document stays valid UTF-8 and the page gets the exact string back.
 */
export function encodeForScript(value: string): string {
  return JSON.stringify(value).replace(UNSAFE_IN_SCRIPT, escapeChar);
}

const UNSAFE_IN_SCRIPT = /[<>&\u2028\u2029]/g;

function escapeChar(char: string): string {
  return `\\u${char.charCodeAt(0).toString(16).padStart(4, "0")}`;
}
