// build.mjs — bundles the console into web/dist/ for scripts/embed-web.
// Same sources give the same bytes: no timestamps, no source maps, no
// absolute paths, fixed target. Nothing is fetched at run time (no CDN,
// no web fonts): the bundle holds everything the browser needs.
import * as esbuild from 'esbuild';
import { copyFileSync, mkdirSync, rmSync } from 'node:fs';

const out = 'dist';
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });

const common = {
  bundle: true,
  minify: true,
  target: ['es2020'],
  legalComments: 'eof',
  sourcemap: false,
  logLevel: 'warning',
  charset: 'utf8',
};
await esbuild.build({ ...common, entryPoints: ['src/main.ts'], outfile: `${out}/app.js`, format: 'iife' });
await esbuild.build({ ...common, entryPoints: ['src/app.css'], outfile: `${out}/app.css` });
copyFileSync('src/index.html', `${out}/index.html`);
copyFileSync('src/favicon.svg', `${out}/favicon.svg`);
