/**
 * Which pages may talk to this server. Pure functions over request headers, so the rules are
 * unit-testable without a server.
 */
import type { IncomingHttpHeaders } from "node:http";

/** Exact origins (`https://app.example`), or a predicate over a serialized origin. */
export type AllowedOrigins = readonly string[] | ((origin: string) => boolean);

/** A compiled allow-list: true when `origin` (a serialized origin) may connect. */
export type OriginCheck = (origin: string) => boolean;

/**
 * Validates the `allowedOrigins` option once, at construction, so a typo fails loudly instead
 * of silently refusing every browser. `*` is refused: a wildcard would hand every site the
 * sessions of logged-in users (cookies travel with these requests).
 */
export function compileAllowedOrigins(allowed: AllowedOrigins): OriginCheck {
  if (typeof allowed === "function") return (origin) => allowed(origin) === true;
  if (!Array.isArray(allowed)) throw new TypeError("cometa/server: allowedOrigins must be an array of origins or a function");
  const exact = new Set<string>();
  for (const origin of allowed) {
    if (origin === "*") {
      throw new TypeError('cometa/server: allowedOrigins does not accept "*"; list the exact origins (or pass a function)');
    }
    if (typeof origin !== "string" || serializedOrigin(origin) !== origin) {
      throw new TypeError(
        `cometa/server: allowedOrigins entry ${JSON.stringify(origin)} is not an origin (scheme://host[:port], no path or trailing slash)`,
      );
    }
    exact.add(origin);
  }
  return (origin) => exact.has(origin);
}

/** The origin of an absolute http(s) URL, or undefined (opaque origins and garbage alike). */
export function serializedOrigin(url: string): string | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return undefined;
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") return undefined;
  return parsed.origin;
}

function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return typeof value === "string" ? value : undefined;
}

/** How much a request must prove about the page that made it. */
export interface SiteRule {
  /**
   * For what only browsers use (JSONP, the forever-frame): a request must carry positive proof
   * of an allowed page; one without any browser header is refused instead of passing as a
   * non-browser client. Over plain HTTP browsers send no Fetch Metadata, so a cross-site
   * `<script referrerpolicy="no-referrer">` arrives with no header at all, and a JSONP response
   * is the one answer such a script can read.
   */
  readonly browserOnly?: boolean;
}

/**
 * Whether a request may proceed, judged by what browsers say about the page that made it.
 *
 * 1. `Origin` present: it must be allowed. Exception: `Sec-Fetch-Site: same-origin` (set by
 *    the browser, not by scripts) means the page is on this server's own origin, which browsers
 *    also send `Origin` for on POSTs; refusing those would break same-origin pages on upstream.
 * 2. else `Sec-Fetch-Site`: `same-origin`/`none` pass; `same-site`/`cross-site` need a
 *    `Referer` whose origin is allowed (no Referer: refused, nothing to check).
 * 3. else a `Referer` must have an allowed origin.
 * 4. none of these: not a browser page (Node, curl, native apps) - allowed, unless
 *    `browserOnly`; these clients can forge any header anyway, so the rule protects browser
 *    users, not the server.
 *
 * Every request passing 1-3 carries positive proof (an allowed Origin or Referer, or the
 * browser's word that the page is same-origin or that no page asked); 4 is the only pass
 * without it.
 */
export function isRequestFromAllowedSite(headers: IncomingHttpHeaders, isAllowed: OriginCheck, rule: SiteRule = {}): boolean {
  const origin = header(headers, "origin");
  const fetchSite = header(headers, "sec-fetch-site");
  const referer = header(headers, "referer");
  if (origin !== undefined) {
    if (fetchSite === "same-origin") return true;
    return origin !== "null" && isAllowed(origin);
  }
  if (fetchSite !== undefined) {
    if (fetchSite === "same-origin" || fetchSite === "none") return true;
    return refererAllowed(referer, isAllowed);
  }
  if (referer !== undefined) return refererAllowed(referer, isAllowed);
  return rule.browserOnly !== true;
}

function refererAllowed(referer: string | undefined, isAllowed: OriginCheck): boolean {
  if (referer === undefined) return false;
  const origin = serializedOrigin(referer);
  return origin !== undefined && isAllowed(origin);
}

/**
 * The iframe transport posts every packet to `requested` (its `origin` query parameter), so
 * that origin must be allowed and must be the page that actually embeds the frame: the browser
 * has to say so (`Origin` or `Referer` naming it), or say the page is the server's own origin
 * (`Sec-Fetch-Site: same-origin`, where a wrong `requested` only makes postMessage drop every
 * packet). A request that says nothing is no frame of a page: refused.
 */
export function isIframeOriginAcceptable(
  requested: string | undefined,
  headers: IncomingHttpHeaders,
  isAllowed: OriginCheck,
): boolean {
  if (requested === undefined || serializedOrigin(requested) !== requested || !isAllowed(requested)) return false;
  const origin = header(headers, "origin");
  if (origin !== undefined && origin !== requested) return false;
  const referer = header(headers, "referer");
  if (referer !== undefined && serializedOrigin(referer) !== requested) return false;
  return origin !== undefined || referer !== undefined || header(headers, "sec-fetch-site") === "same-origin";
}
