// What a new user does: `npm create vite@latest my-app -- --template vanilla-ts`, then
// `npm install <path to softmax-wasm>`, then three lines in src/main.ts. `npm create` needs the
// network, so this writes an app equivalent to that template (same package.json scripts, same
// tsconfig compiler options, an index.html loading /src/main.ts, a small TypeScript entry), and
// then does the user's two steps for real. The template's devDependencies (vite, typescript)
// are the repository's own: Node's upward resolution finds them, so nothing is downloaded.
//
//   node scripts/test/browser/create-vite-app.mjs <dir> <package path or .tgz>
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The three lines the user adds: an import at the top, init and a use at the end. */
export const USER_IMPORT = "import { init, backend, softmax } from 'softmax-wasm'";
export const USER_LINES = [
  'await init()',
  "document.body.insertAdjacentHTML('beforeend', `<p id=\"softmax\" data-backend=\"${backend()}\">${softmax(new Float32Array([1, 2, 3]), { classes: 3 }).join(' ')}</p>`)",
];

const files = {
  'package.json': JSON.stringify(
    {
      name: 'my-app',
      private: true,
      version: '0.0.0',
      type: 'module',
      scripts: { dev: 'vite', build: 'tsc && vite build', preview: 'vite preview' },
    },
    null,
    2,
  ) + '\n',
  'tsconfig.json': JSON.stringify(
    {
      compilerOptions: {
        target: 'ES2022',
        useDefineForClassFields: true,
        module: 'ESNext',
        lib: ['ES2022', 'DOM', 'DOM.Iterable'],
        types: ['vite/client'],
        skipLibCheck: true,
        moduleResolution: 'bundler',
        allowImportingTsExtensions: true,
        verbatimModuleSyntax: true,
        moduleDetection: 'force',
        noEmit: true,
        strict: true,
        noUnusedLocals: true,
        noUnusedParameters: true,
        erasableSyntaxOnly: true,
        noFallthroughCasesInSwitch: true,
        noUncheckedSideEffectImports: true,
      },
      include: ['src'],
    },
    null,
    2,
  ) + '\n',
  'index.html': `<!doctype html>
<html lang="en">
  <head>
    <meta charset="UTF-8" />
    <meta name="viewport" content="width=device-width, initial-scale=1.0" />
    <title>my-app</title>
  </head>
  <body>
    <div id="app"></div>
    <script type="module" src="/src/main.ts"></script>
  </body>
</html>
`,
  'src/style.css': `body { font-family: system-ui, sans-serif; margin: 2rem; }
button { padding: 0.4rem 1rem; }
`,
  'src/counter.ts': `export function setupCounter(button: HTMLButtonElement): void {
  let count = 0
  const set = (n: number) => {
    count = n
    button.textContent = \`count is \${count}\`
  }
  button.addEventListener('click', () => set(count + 1))
  set(0)
}
`,
  'src/main.ts': `import './style.css'
import { setupCounter } from './counter.ts'

document.querySelector<HTMLDivElement>('#app')!.innerHTML = \`
  <h1>Vite + TypeScript</h1>
  <button id="counter" type="button"></button>
\`

setupCounter(document.querySelector<HTMLButtonElement>('#counter')!)
`,
};

/** Writes the fresh app into `dir` (emptied first). */
export function scaffold(dir) {
  rmSync(dir, { recursive: true, force: true });
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(join(dir, name, '..'), { recursive: true });
    writeFileSync(join(dir, name), text);
  }
}

/** `npm install <pkg>` as the user types it (a folder becomes a symlink, a .tgz is unpacked). */
export function installPackage(dir, pkg) {
  execFileSync('npm', ['install', '--no-audit', '--no-fund', '--offline', '--ignore-scripts', resolve(pkg)], { cwd: dir, stdio: 'pipe' });
}

/** The user's three lines. */
export function addUserLines(dir) {
  const main = join(dir, 'src/main.ts');
  const text = readFileSync(main, 'utf8');
  writeFileSync(main, `${USER_IMPORT}\n${text}\n${USER_LINES.join('\n')}\n`);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const [dir, pkg] = process.argv.slice(2);
  if (!dir || !pkg) throw new Error('usage: create-vite-app.mjs <dir> <package path or .tgz>');
  scaffold(dir);
  installPackage(dir, pkg);
  addUserLines(dir);
  console.log(`created ${dir}: npm run dev / npm run build`);
}
