/**
 * engine.io-client's `parse`: the fields socket.io-client reads (protocol, host, port, path,
 * query, queryKey, source) and the others its parser returns, with the same values, including
 * IPv6 hosts without their brackets.
 */
import { UsageError } from "../errors.js";

export interface ParsedUri {
  source: string;
  protocol: string;
  authority: string;
  userInfo: string;
  user: string;
  password: string;
  host: string;
  port: string;
  relative: string;
  path: string;
  directory: string;
  file: string;
  query: string;
  anchor: string;
  pathNames: string[];
  queryKey: Record<string, string>;
  ipv6uri?: boolean;
}

// scheme (only the four engine.io speaks), user info, host ([IPv6] or name), port, then path,
// query and fragment; every part optional, so any string yields a result
const uriPattern =
  /^(?:(https?|wss?):\/\/)?((?:(([^:@/?#]*)(?::([^:@/?#]*))?)?@)?(\[[^\]]*\]|[^:/?#]*)(?::(\d*))?)(([^?#]*)(?:\?([^#]*))?(?:#(.*))?)/;

function pathNames(path: string): string[] {
  const names = path.replace(/\/{2,9}/g, "/").split("/");
  if (path.charAt(0) === "/" || path.length === 0) names.shift();
  if (path.charAt(path.length - 1) === "/") names.pop();
  return names;
}

function queryKey(query: string): Record<string, string> {
  const data: Record<string, string> = {};
  for (const pair of query.split("&")) {
    const equals = pair.indexOf("=");
    const key = equals < 0 ? pair : pair.slice(0, equals);
    // raw, not percent-decoded: socket.io-client passes these on as they came
    if (key) data[key] = equals < 0 ? "" : pair.slice(equals + 1);
  }
  return data;
}

/** The regular expression's groups, in order: the fields taken as they match. */
const groups = ["source", "protocol", "authority", "userInfo", "user", "password", "host", "port", "relative", "path", "query", "anchor"] as const;

export function parse(source: string): ParsedUri {
  // the same bound as engine.io-client, so a pathological string cannot cost much
  if (source.length > 8000) throw new UsageError("URI too long");
  const match = uriPattern.exec(source)!;
  const uri = {} as ParsedUri;
  groups.forEach((key, index) => (uri[key] = match[index] || ""));
  // the whole string, also where the pattern stops short (at a line break)
  uri.source = source;
  if (uri.host.charAt(0) === "[") {
    uri.host = uri.host.slice(1, -1);
    uri.authority = uri.authority.replace("[", "").replace("]", "");
    uri.ipv6uri = true;
  }
  const { path } = uri;
  // the last segment is a file when it has an extension ("/a/b.js"); otherwise all is directory
  const slash = path.lastIndexOf("/");
  const last = path.slice(slash + 1);
  const isFile = path.charAt(0) !== "/" || /\.[^.]+$/.test(last);
  uri.directory = isFile ? path.slice(0, slash + 1) : path;
  uri.file = isFile ? last : "";
  uri.pathNames = pathNames(path);
  uri.queryKey = queryKey(uri.query);
  return uri;
}
