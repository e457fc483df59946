/**
 * The xhr-streaming reader: text split into lines across chunk boundaries, padding skipped
 * (src/wire.ts has the line framing).
 */
import { isPaddingLine, lineSeparator } from "../wire.js";

/**
 * Splits text into lines across chunk boundaries; blank lines (the padding) are skipped. A
 * line longer than `maxLength` characters, ended or not, is not read further: `onOverflow` runs
 * instead and the reader is done.
 */
export function createLineReader(
  onLine: (line: string) => void,
  maxLength = Infinity,
  onOverflow: (length: number) => void = () => {},
): (chunk: string) => void {
  // the open line's pieces, joined once when its end comes: only new text is scanned, so a
  // long line costs time in proportion to its length, not to its square
  let pieces: string[] = [];
  let length = 0;
  return (chunk) => {
    // once over the limit, `length` stays over it and nothing more is read
    for (let start = 0; length <= maxLength; ) {
      const end = chunk.indexOf(lineSeparator, start);
      const piece = end < 0 ? chunk.slice(start) : chunk.slice(start, end);
      if ((length += piece.length) > maxLength) {
        pieces = [];
        return onOverflow(length);
      }
      pieces.push(piece);
      if (end < 0) return;
      const line = pieces.join("");
      pieces = [];
      length = 0;
      start = end + lineSeparator.length;
      if (!isPaddingLine(line)) onLine(line);
    }
  };
}
