/**
 * Incremental parsers for the cometa stream formats (docs/wire.md), written from the doc and
 * not from the server code: each turns response text into engine.io packet strings. A frame
 * carries a payload: one or more packets joined by U+001E.
 */
export interface StreamParser {
  /** Feeds response text; returns the packets completed by it. */
  push(text: string): string[];
  /** Keep-alive comments seen (sse). */
  readonly comments: number;
  /** Frames seen as they are and as JSON strings (sse, xhr-streaming; docs/wire.md). */
  readonly frames?: { plain: number; json: number };
}

/** A line's frame: a JSON string when it opens with `"`, else the payload as it is. */
function lineFrame(frame: string, frames: { plain: number; json: number }): string {
  if (frame.startsWith('"')) {
    frames.json++;
    return JSON.parse(frame) as string;
  }
  frames.plain++;
  return frame;
}

/** A frame's payload as its packets: U+001E never occurs inside one. */
export function splitPayload(payload: string): string[] {
  if (payload === "") throw new Error("empty payload");
  return payload.split("\x1e");
}

/** sse: events separated by a blank line; `data:` lines hold a frame; `:` lines are comments. */
export class SseParser implements StreamParser {
  private buffer = "";
  comments = 0;
  readonly frames = { plain: 0, json: 0 };
  push(text: string): string[] {
    this.buffer += text;
    const packets: string[] = [];
    let end: number;
    while ((end = this.buffer.indexOf("\n\n")) !== -1) {
      const event = this.buffer.slice(0, end);
      this.buffer = this.buffer.slice(end + 2);
      const data: string[] = [];
      for (const line of event.split("\n")) {
        if (line.startsWith(":")) this.comments++;
        else if (line.startsWith("data: ")) data.push(line.slice(6));
        else throw new Error(`unexpected sse line ${JSON.stringify(line.slice(0, 80))}`);
      }
      if (data.length > 1) throw new Error("one data line per event expected");
      if (data.length === 1) packets.push(...splitPayload(lineFrame(data[0]!, this.frames)));
    }
    return packets;
  }
}

/** xhr-streaming: one frame (a payload) per line; blank (whitespace-only) lines skipped. */
export class XhrStreamingParser implements StreamParser {
  private buffer = "";
  readonly comments = 0;
  readonly frames = { plain: 0, json: 0 };
  push(text: string): string[] {
    this.buffer += text;
    const packets: string[] = [];
    let end: number;
    while ((end = this.buffer.indexOf("\n")) !== -1) {
      const line = this.buffer.slice(0, end);
      this.buffer = this.buffer.slice(end + 1);
      if (line.trim() === "") continue;
      packets.push(...splitPayload(lineFrame(line, this.frames)));
    }
    return packets;
  }
}

/**
 * iframe: `<script>p(LITERAL)</script>` chunks. The literal is JSON with `<>&` U+2028/9
 * escaped as \uXXXX, which JSON.parse also reads. Records the origin and frame id of the
 * bootstrap script.
 */
export class IframeParser implements StreamParser {
  private buffer = "";
  readonly comments = 0;
  origin: string | undefined;
  frameId: string | undefined;
  push(text: string): string[] {
    this.buffer += text;
    const packets: string[] = [];
    const boot = /<script>var o=("(?:[^"\\]|\\.)*"),f=("(?:[^"\\]|\\.)*");function p\(d\)\{parent\.postMessage\(\["cometa",f,d\],o\);var s=document\.currentScript;s&&s\.parentNode&&s\.parentNode\.removeChild\(s\)\}p\(1\)<\/script>\n/;
    const match = boot.exec(this.buffer);
    if (match) {
      this.origin = JSON.parse(match[1]!) as string;
      this.frameId = JSON.parse(match[2]!) as string;
      this.buffer = this.buffer.slice(match.index + match[0].length);
    }
    if (this.origin === undefined) return packets;
    const chunk = /^<script>p\(("(?:[^"\\]|\\.)*")\)<\/script>\n/;
    let next: RegExpExecArray | null;
    while ((next = chunk.exec(this.buffer))) {
      packets.push(...splitPayload(JSON.parse(next[1]!) as string));
      this.buffer = this.buffer.slice(next[0].length);
    }
    return packets;
  }
  /** What is left after the last whole chunk (the document's end). */
  rest(): string {
    return this.buffer;
  }
}
