/**
 * The JavaScript string literal safe inside an HTML `<script>` element, as the iframe
 * documents write it: part of the wire contract, so it lives in src/wire.ts.
 */
export { encodeForScript } from "../wire.js";
