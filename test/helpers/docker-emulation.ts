/**
 * Builds the Dockerfile without Docker: the build context as Docker would send it (the clone's files, less what
 * .dockerignore excludes), then each instruction in order, every stage in its own folder standing for its filesystem. COPY
 * copies from the context or an earlier stage; RUN runs its npm / node steps for real in the stage's working folder with the
 * stage's ENV; steps that change the operating system (apt-get) are checked against the host instead. An instruction or a
 * command this emulation does not know fails the build, so a Dockerfile change cannot slip past it unexamined.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import type { Ignore } from '@balena/dockerignore';
import { DockerfileParser, type Copy, type Env, type Instruction, type JSONInstruction } from 'dockerfile-ast';

// A CommonJS module whose typings declare an ES default export.
const dockerignore = createRequire(import.meta.url)('@balena/dockerignore') as () => Ignore;

export interface EmulatedImage {
  /** The final stage's filesystem: everything its layers add to the base image. */
  root: string;
  baseImage: string;
  workdir: string;
  env: Record<string, string>;
  entrypoint: string[];
  /** The HEALTHCHECK's shell command, if any. */
  healthcheck: string | undefined;
  user: string | undefined;
}

interface Stage { name: string | undefined; root: string; workdir: string; env: Record<string, string>; image: string }

/** Files of the build context, relative to `repo`: tracked and untracked-but-not-ignored files, less .dockerignore's. */
export function buildContext(repo: string): string[] {
  const files = execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard', '-z'], { cwd: repo, encoding: 'utf8' })
    .split('\0').filter((f) => f !== '' && existsSync(path.join(repo, f)));
  const ignoreFile = path.join(repo, '.dockerignore');
  if (!existsSync(ignoreFile)) return files;
  const ig = dockerignore().add(readFileSync(ignoreFile, 'utf8').split('\n'));
  return files.filter((f) => !ig.ignores(f));
}

/** Splits a shell command line on top-level `&&` and into words (quotes respected; no other shell syntax is supported). */
function commands(line: string): string[][] {
  const out: string[][] = [[]];
  let word = '';
  let quote: string | undefined;
  let inWord = false;
  const end = (): void => { if (inWord) out[out.length - 1].push(word); word = ''; inWord = false; };
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quote) {
      if (c === quote) quote = undefined;
      else word += c;
    } else if (c === '"' || c === "'") {
      quote = c;
      inWord = true;
    } else if (/\s/.test(c)) {
      end();
    } else if (c === '&' && line[i + 1] === '&') {
      end();
      out.push([]);
      i++;
    } else if (';|<>`$()'.includes(c)) {
      throw new Error(`the image emulation understands commands joined by && only, not '${c}' in: ${line}`);
    } else {
      word += c;
      inWord = true;
    }
  }
  end();
  return out.filter((c) => c.length > 0);
}

/** The command that provides each Debian build package the Dockerfile installs. */
const PACKAGE_COMMANDS: Record<string, string> = { python3: 'python3', make: 'make', 'g++': 'g++', gcc: 'gcc' };

export interface EmulationOptions {
  /** Extra environment for RUN steps (e.g. npm's cache settings); never overrides the Dockerfile's ENV. */
  env?: NodeJS.ProcessEnv;
  /** Called with each step as it runs. */
  log?: (line: string) => void;
}

/** Emulates `docker build` of `repo`'s Dockerfile into folders under `out`. */
export function emulateDockerBuild(repo: string, out: string, opts: EmulationOptions = {}): EmulatedImage {
  const log = opts.log ?? (() => undefined);
  const context = buildContext(repo);
  const dockerfile = DockerfileParser.parse(readFileSync(path.join(repo, 'Dockerfile'), 'utf8'));
  const stages: Stage[] = [];
  let stage: Stage | undefined;
  let entrypoint: string[] = [];
  let healthcheck: string | undefined;
  let user: string | undefined;
  const inStage = (p: string): string => path.join(stage!.root, p);
  const absolute = (p: string): string => path.posix.resolve(stage!.workdir, p);

  const copy = (ins: Copy): void => {
    const args = ins.getArguments().map((a) => a.getValue());
    const dest = args.pop()!;
    const from = ins.getFlags().find((f) => f.getName() === 'from')?.getValue() ?? undefined;
    const source = from === undefined ? undefined : stages.find((s) => s.name === from);
    if (from !== undefined && !source) throw new Error(`COPY --from=${from}: no such stage`);
    const destAbs = absolute(dest);
    const intoDir = dest.endsWith('/') || args.length > 1;
    for (const src of args) {
      if (/[*?[]/.test(src)) throw new Error(`COPY ${src}: wildcards are not emulated`);
      if (source) {
        const from = path.join(source.root, path.posix.resolve(source.workdir, src));
        if (!existsSync(from)) throw new Error(`COPY --from=${source.name} ${src}: not found in that stage`);
        const to = intoDir && !lstatSync(from).isDirectory() ? path.join(inStage(destAbs), path.basename(from)) : inStage(destAbs);
        cpSync(from, to, { recursive: true, verbatimSymlinks: true });
        continue;
      }
      const rel = path.posix.normalize(src).replace(/^\.?\/*/, '').replace(/\/$/, '');
      const under = rel === '' || rel === '.' ? context : context.filter((f) => f === rel || f.startsWith(`${rel}/`));
      if (under.length === 0) throw new Error(`COPY ${src}: not in the build context (missing, or excluded by .dockerignore)`);
      for (const f of under) {
        const isDirCopy = f !== rel;
        const target = isDirCopy ? path.join(destAbs, path.posix.relative(rel === '.' ? '' : rel, f)) : intoDir ? path.join(destAbs, path.basename(f)) : destAbs;
        mkdirSync(path.dirname(inStage(target)), { recursive: true });
        cpSync(path.join(repo, f), inStage(target));
      }
    }
  };

  const run = (line: string): void => {
    for (const argv of commands(line)) {
      const [cmd, ...rest] = argv;
      const started = Date.now();
      if (cmd === 'apt-get') {
        // The host stands in for the build stage's operating system: what apt-get would install must be there.
        if (rest.includes('install')) {
          for (const pkg of rest.filter((a) => !a.startsWith('-') && a !== 'install')) {
            const bin = PACKAGE_COMMANDS[pkg];
            if (!bin) throw new Error(`apt-get install ${pkg}: the image emulation does not know which command that package provides`);
            if (spawnSync('sh', ['-c', `command -v ${bin}`]).status !== 0) throw new Error(`the build stage installs ${pkg}; this machine has no ${bin}`);
          }
        }
      } else if (cmd === 'rm' || cmd === 'mkdir') {
        // File operations act on the stage's filesystem, never the host's.
        const paths = rest.filter((a) => !a.startsWith('-')).map((p) => inStage(absolute(p)));
        if (cmd === 'mkdir') for (const p of paths) mkdirSync(p, { recursive: true });
        else for (const p of paths) for (const m of expand(p)) rmSync(m, { recursive: true, force: true });
      } else if (cmd === 'chown') {
        // Ownership is not emulated (the gateway's writable folder is checked by the runtime test instead).
      } else if (cmd === 'npm' || cmd === 'node') {
        const res = spawnSync(cmd === 'node' ? process.execPath : 'npm', rest, {
          cwd: inStage(stage!.workdir),
          env: { PATH: process.env.PATH, HOME: process.env.HOME, ...opts.env, ...stage!.env },
          encoding: 'utf8',
          maxBuffer: 64 << 20,
        });
        if (res.status !== 0) throw new Error(`RUN ${argv.join(' ')} failed (${res.status ?? res.signal}):\n${res.stdout}\n${res.stderr}`);
        for (const l of `${res.stdout}`.split('\n').filter((l) => l.startsWith('prune-image:'))) log(l);
      } else {
        throw new Error(`RUN ${cmd}: the image emulation does not know this command; teach test/helpers/docker-emulation.ts`);
      }
      log(`RUN ${argv.join(' ')} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
    }
  };

  for (const ins of dockerfile.getInstructions()) {
    const keyword = ins.getKeyword();
    if (keyword !== 'FROM' && !stage) throw new Error(`${keyword} before FROM`);
    switch (keyword) {
      case 'FROM': {
        const args = ins.getArguments().map((a) => a.getValue());
        const name = args.length === 3 && args[1].toUpperCase() === 'AS' ? args[2] : undefined;
        const root = path.join(out, `stage-${stages.length}${name ? `-${name}` : ''}`);
        mkdirSync(root, { recursive: true });
        if (stages.some((s) => s.name === args[0])) throw new Error('FROM <earlier stage> is not emulated');
        stage = { name, root, workdir: '/', env: {}, image: args[0] };
        stages.push(stage);
        entrypoint = [];
        healthcheck = undefined;
        user = undefined;
        log(`FROM ${args.join(' ')}`);
        break;
      }
      case 'WORKDIR':
        stage!.workdir = absolute(ins.getArguments()[0].getValue());
        mkdirSync(inStage(stage!.workdir), { recursive: true });
        break;
      case 'ENV':
        for (const p of (ins as Env).getProperties()) stage!.env[p.getName()] = p.getValue() ?? '';
        break;
      case 'COPY':
        log(`COPY ${ins.getArgumentsContent()}`);
        copy(ins as Copy);
        break;
      case 'RUN':
        run(ins.getArgumentsContent() ?? '');
        break;
      case 'ENTRYPOINT':
        entrypoint = jsonForm(ins);
        break;
      case 'HEALTHCHECK': {
        const args = ins.getArguments().map((a) => a.getValue());
        if (args[0] !== 'CMD') throw new Error('HEALTHCHECK: only the CMD shell form is emulated');
        healthcheck = (ins.getArgumentsContent() ?? '').replace(/^[\s\S]*?\bCMD\s+/, '');
        break;
      }
      case 'USER':
        user = ins.getArguments()[0]?.getValue();
        break;
      case 'EXPOSE':
      case 'VOLUME':
      case 'LABEL':
        break;
      default:
        throw new Error(`${keyword}: the image emulation does not know this instruction; teach test/helpers/docker-emulation.ts`);
    }
  }
  const last = stages.at(-1);
  if (!last) throw new Error('the Dockerfile has no FROM');
  if (entrypoint.length === 0) throw new Error('the final stage has no ENTRYPOINT');
  return { root: last.root, baseImage: last.image, workdir: last.workdir, env: last.env, entrypoint, healthcheck, user };
}

function jsonForm(ins: Instruction): string[] {
  const strings = (ins as JSONInstruction).getJSONStrings?.() ?? [];
  if (strings.length === 0) throw new Error(`${ins.getKeyword()}: only the JSON (exec) form is emulated`);
  return strings.map((s) => s.getJSONValue());
}

/** A trailing `*` in a path (as in rm -rf /var/lib/apt/lists/*) expanded to what is there. */
function expand(p: string): string[] {
  if (!p.endsWith('*')) return [p];
  const dir = path.dirname(p);
  return existsSync(dir) ? readdirSync(dir).map((e) => path.join(dir, e)) : [];
}

/** Bytes of the files under `dir` (what an image layer holding them stores, before compression). */
export function treeBytes(dir: string): number {
  let total = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    total += e.isDirectory() ? treeBytes(p) : lstatSync(p).size;
  }
  return total;
}
