/**
 * The syntax the builds may contain, checked instead of remembered.
 *
 * 1. Every browser build parses at its declared target (scripts/build-settings.mjs):
 *    dist/*.min.js at IIFE_TARGET, the bundler builds at MODULE_TARGET. esbuild lowers the
 *    sources, but not the packages bundled from node_modules, and a script tag in an older
 *    browser fails on the first newer token.
 * 2. The client sources bundled into the script-tag builds use no syntax newer than
 *    IIFE_TARGET that esbuild would have to lower into extra code (`a?.b` and `a ?? b` become
 *    temporaries and `== null` tests, `#x` a WeakMap per field): the small build stays small
 *    only if the sources are written at the target. Syntax esbuild lowers at no cost (class
 *    fields, `catch {}` without a binding, numeric separators) is allowed.
 *
 * Usage: node scripts/check-syntax.mjs (after `npm run build`). Exits 1 naming every site.
 */
import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { parse } from "acorn";
import { build } from "esbuild";
import ts from "typescript";
import { IIFE_TARGET, MODULE_TARGET } from "./build-settings.mjs";

const root = fileURLToPath(new URL("..", import.meta.url));
const year = (target) => Number(/^es(\d{4})$/.exec(target)?.[1] ?? NaN);

/** The builds a browser loads, by the target they are built for. */
const builds = [
  ["dist/cometa.min.js", IIFE_TARGET, "script"],
  ["dist/cometa.core.min.js", IIFE_TARGET, "script"],
  ["dist/socket.io.min.js", IIFE_TARGET, "script"],
  ["dist/diagnose.min.js", IIFE_TARGET, "script"],
  ["dist/cometa.mjs", MODULE_TARGET, "module"],
  ["dist/cometa.cjs", MODULE_TARGET, "script"],
  ["dist/engine.io-client.mjs", MODULE_TARGET, "module"],
  ["dist/engine.io-client.cjs", MODULE_TARGET, "script"],
];

/** The entries of the script-tag builds (rollup.config.mjs): their src graphs are checked. */
const scriptTagEntries = ["src/index.ts", "src/polling-websocket.ts", "src/compat/engine.io-client.ts", "src/diagnose.ts"];

/** Syntax newer than ES2018 that esbuild lowers into more code, with the year it came in. */
function newerSyntax(node) {
  const k = ts.SyntaxKind;
  if (node.questionDotToken) return [2020, "optional chaining `?.` (write `a && a.b`)"];
  if (ts.isBinaryExpression(node)) {
    const operator = node.operatorToken.kind;
    if (operator === k.QuestionQuestionToken) return [2020, "nullish coalescing `??` (write `a != null ? a : b`, or `||` where falsy values cannot occur)"];
    if (operator === k.QuestionQuestionEqualsToken) return [2021, "logical assignment `??=`"];
    if (operator === k.BarBarEqualsToken) return [2021, "logical assignment `||=`"];
    if (operator === k.AmpersandAmpersandEqualsToken) return [2021, "logical assignment `&&=`"];
  }
  if (node.kind === k.PrivateIdentifier) return [2022, "private name `#x` (a WeakMap per field when lowered; name it `_x`, which the minifier mangles)"];
  if (node.kind === k.ClassStaticBlockDeclaration) return [2022, "class static block"];
  if (node.kind === k.BigIntLiteral) return [2020, "BigInt literal"];
  if (ts.isMetaProperty(node) && node.keywordToken === k.ImportKeyword) return [2020, "import.meta"];
  if (node.kind === k.AwaitKeyword && ts.isForOfStatement(node.parent)) return [2018, "for await"];
  return undefined;
}

async function scriptTagModules() {
  const result = await build({
    entryPoints: scriptTagEntries,
    bundle: true,
    write: false,
    metafile: true,
    outdir: "out",
    platform: "browser",
    packages: "external",
    logLevel: "silent",
  });
  return Object.keys(result.metafile.inputs).filter((file) => file.startsWith("src/")).sort();
}

function sourceSites(file, targetYear) {
  const text = readFileSync(new URL(file, `file://${root}`), "utf8");
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  const sites = [];
  const visit = (node) => {
    const found = newerSyntax(node);
    if (found && found[0] > targetYear) {
      const { line, character } = source.getLineAndCharacterOfPosition(node.getStart(source));
      sites.push(`${file}:${line + 1}:${character + 1} ${found[1]}, ES${found[0]}`);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return sites;
}

const failures = [];

for (const [file, target, sourceType] of builds) {
  if (!existsSync(new URL(file, `file://${root}`))) {
    failures.push(`${file} is missing: run \`npm run build\` first`);
    continue;
  }
  try {
    parse(readFileSync(new URL(file, `file://${root}`), "utf8"), { ecmaVersion: year(target), sourceType });
  } catch (error) {
    failures.push(`${file} does not parse as ${target}: ${error.message} (a bundled package left newer syntax: lower it in the build)`);
  }
}

const iifeYear = year(IIFE_TARGET);
const modules = await scriptTagModules();
for (const file of modules) {
  const sites = sourceSites(file, iifeYear);
  if (sites.length > 0) {
    failures.push(`${file}: syntax newer than IIFE_TARGET (${IIFE_TARGET}) that esbuild lowers into extra code in dist/*.min.js:\n  ${sites.join("\n  ")}`);
  }
}

if (failures.length > 0) {
  console.error(failures.join("\n"));
  process.exit(1);
}
console.log(`syntax: ${builds.length} builds parse at their targets; ${modules.length} client modules written at ${IIFE_TARGET}`);
