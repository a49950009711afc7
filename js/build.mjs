// Bundle the front end into ../tam_widgets/static/: widget.js (ESM, anywidget),
// standalone.js (IIFE, global TamWidgets, static pages) and widget.css.
import { build } from "esbuild";
import { mkdirSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const out = resolve(here, "../tam_widgets/static");
mkdirSync(out, { recursive: true });

const common = { bundle: true, minify: true, target: "es2020", logLevel: "warning", legalComments: "none" };

await Promise.all([
  build({ ...common, entryPoints: [resolve(here, "src/index.ts")], format: "esm", outfile: resolve(out, "widget.js") }),
  build({
    ...common,
    entryPoints: [resolve(here, "src/standalone.ts")],
    format: "iife",
    globalName: "TamWidgets",
    outfile: resolve(out, "standalone.js"),
  }),
  build({ ...common, entryPoints: [resolve(here, "src/widget.css")], outfile: resolve(out, "widget.css") }),
]);
console.log(`built widget.js, standalone.js, widget.css in ${out}`);
