#!/usr/bin/env node
/**
 * What the browser suites need from the machine, found in one place and installed when missing:
 * a Chromium (the Express/Next.js example tests and the e2e suite) and the EasyList/EasyPrivacy
 * files (the e2e suite's ad-blocker project), and Debian's Prometheus server and promtool (the
 * example alerts and dashboard test; optional where it cannot be installed). `npm test` calls `provision()` before any suite
 * runs; playwright.config.ts, test/support/chromium.ts, e2e/support/adblock.ts and the tracker
 * bench ask `findChromium()` / `findFilterLists()`, so "where is Chromium" has one answer.
 *
 * Order, for each thing, first that works:
 *   Chromium      /usr/bin/chromium (Debian's) · Playwright's own, in its cache ·
 *                 apt-get install chromium (root on Debian: CI and the dev machines) ·
 *                 npx playwright install chromium (needs its download host)
 *   filter lists  Debian's webext-ublock-origin-chromium · a copy downloaded before into
 *                 node_modules/.cache/umbeacon/filter-lists · apt-get install of that package
 *                 (root on Debian) · a download from easylist.to into that cache
 * Where nothing works it stops with one line that names the command to run.
 *
 * Two `npm test` at once provision one after the other (a lock directory beside the cache);
 * the second finds what the first installed and installs nothing. Progress goes to stderr.
 *
 * Plain JavaScript (types in provision.d.mts): it runs before anything is built, under plain
 * node (`node scripts/provision.mjs` provisions everything and prints where it found it).
 * Every fact about the machine and every action comes from a `Machine`, so a test can play a
 * machine without Chromium, without root or without Debian (test/scripts/provision.test.ts).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium } from 'playwright';

export const ROOT = resolve(import.meta.dirname, '..');
export const DEBIAN_CHROMIUM = '/usr/bin/chromium';
/** Where Debian's webext-ublock-origin-chromium puts the lists uBlock Origin ships with. */
export const DEBIAN_LISTS_DIR = '/usr/share/chromium/extensions/ublock-origin/assets/thirdparties/easylist';
export const CACHE_DIR = join(ROOT, 'node_modules/.cache/umbeacon');
export const CACHED_LISTS_DIR = join(CACHE_DIR, 'filter-lists');
/** The files and where their publishers serve them. */
export const FILTER_LISTS = Object.freeze({
  'easylist.txt': 'https://easylist.to/easylist/easylist.txt',
  'easyprivacy.txt': 'https://easylist.to/easylist/easyprivacy.txt',
});
export const APT_PACKAGES = Object.freeze({ chromium: 'chromium', lists: 'webext-ublock-origin-chromium', prometheus: 'prometheus' });
/**
 * Debian's `prometheus` package: the server and `promtool`, which test/examples/prometheus.test.ts
 * runs against examples/prometheus and examples/grafana. Its install starts no daemon in a
 * container. Optional where it cannot be installed: that test then skips, except under `CI`.
 */
export const DEBIAN_PROMETHEUS = Object.freeze(['/usr/bin/prometheus', '/usr/bin/promtool']);

/** The one line `npm test` stops with; `message` names the command to run. */
export class ProvisionError extends Error {
  name = 'ProvisionError';
}

/** This machine. */
export function realMachine() {
  return {
    exists: existsSync,
    playwrightChromium: () => {
      try {
        return chromium.executablePath();
      } catch {
        return undefined; // A platform Playwright has no build for.
      }
    },
    isRoot: () => process.getuid?.() === 0,
    isDebian: () => existsSync('/etc/debian_version') && spawnSync('apt-get', ['--version'], { stdio: 'ignore' }).status === 0,
    /** Runs a command with its output on stderr; true when it exits 0. */
    run(command, args, env = {}) {
      const result = spawnSync(command, args, { stdio: ['ignore', 2, 2], env: { ...process.env, ...env } });
      return result.status === 0;
    },
    async download(url, file) {
      const res = await fetch(url, { signal: AbortSignal.timeout(60_000) });
      if (!res.ok) throw new Error(`${url} answered ${res.status}`);
      const text = await res.text();
      // A captive portal or an error page is not a filter list.
      if (!text.startsWith('[Adblock Plus')) throw new Error(`${url} did not answer a filter list`);
      mkdirSync(resolve(file, '..'), { recursive: true });
      writeFileSync(`${file}.${process.pid}`, text);
      renameSync(`${file}.${process.pid}`, file);
    },
    log: (line) => process.stderr.write(`provision: ${line}\n`),
    lock: (fn) => withLock(join(CACHE_DIR, 'provision.lock'), fn),
  };
}

/** The Chromium to launch, or undefined when the machine has none. */
export function findChromium(machine = realMachine()) {
  if (machine.exists(DEBIAN_CHROMIUM)) return DEBIAN_CHROMIUM;
  const own = machine.playwrightChromium();
  return own && machine.exists(own) ? own : undefined;
}

/** The directory holding easylist.txt and easyprivacy.txt, or undefined. */
export function findFilterLists(machine = realMachine()) {
  return [DEBIAN_LISTS_DIR, CACHED_LISTS_DIR].find((dir) => Object.keys(FILTER_LISTS).every((name) => machine.exists(join(dir, name))));
}

/** Where Debian's Prometheus server and promtool are, or undefined. */
export function findPrometheus(machine = realMachine()) {
  return DEBIAN_PROMETHEUS.every((file) => machine.exists(file)) ? '/usr/bin' : undefined;
}

/** `findChromium()`, or a `ProvisionError` saying how to get one (for the suites' own runners). */
export function requireChromium(machine = realMachine()) {
  const found = findChromium(machine);
  if (!found) throw new ProvisionError(notProvisioned('Chromium'));
  return found;
}

/** `findFilterLists()`, or a `ProvisionError` saying how to get them. */
export function requireFilterLists(machine = realMachine()) {
  const found = findFilterLists(machine);
  if (!found) throw new ProvisionError(notProvisioned('the EasyList/EasyPrivacy filter lists'));
  return found;
}

// A runner started without `npm test` (npx playwright test, npx vitest run) points at the step it skipped.
const notProvisioned = (what) => `provision: ${what} missing; run: node scripts/provision.mjs (npm test runs it first)`;

/** What is missing of `needs`. */
function missingOf(needs, machine) {
  return {
    chromium: needs.chromium === true && !findChromium(machine),
    lists: needs.lists === true && !findFilterLists(machine),
    prometheus: needs.prometheus === true && !findPrometheus(machine),
  };
}

/**
 * The one line for what could not be provisioned, naming the command that would: apt-get on
 * Debian (with sudo when not root), elsewhere Playwright's installer and a download of the lists.
 */
export function missingMessage(missing, machine) {
  const what = [missing.chromium && 'Chromium', missing.lists && 'the EasyList/EasyPrivacy filter lists'].filter(Boolean).join(' and ');
  let command;
  if (machine.isDebian()) {
    const packages = [missing.chromium && APT_PACKAGES.chromium, missing.lists && APT_PACKAGES.lists].filter(Boolean).join(' ');
    command = `${machine.isRoot() ? '' : 'sudo '}apt-get update && ${machine.isRoot() ? '' : 'sudo '}apt-get install -y ${packages}`;
  } else {
    const lists = Object.entries(FILTER_LISTS).map(([name, url]) => `-o ${join(CACHED_LISTS_DIR, name)} ${url}`).join(' ');
    command = [missing.chromium && 'npx playwright install chromium', missing.lists && `curl -fsSL --create-dirs ${lists}`].filter(Boolean).join(' && ');
  }
  return `provision: ${what} missing and could not be installed; run: ${command}`;
}

/**
 * Finds what `needs` names and installs what is missing. Resolves to where each is; rejects
 * with a `ProvisionError` whose message is the one line naming the command to run.
 *
 * @param {{ chromium?: boolean, lists?: boolean }} needs
 */
export async function provision(needs = { chromium: true, lists: true }, machine = realMachine()) {
  const found = () => ({ chromium: findChromium(machine), lists: findFilterLists(machine), prometheus: findPrometheus(machine) });
  const initially = missingOf(needs, machine);
  if (!initially.chromium && !initially.lists && !initially.prometheus) return found();
  return machine.lock(async () => {
    // Another process may have installed it while this one waited for the lock.
    let missing = missingOf(needs, machine);
    if ((missing.chromium || missing.lists || missing.prometheus) && machine.isRoot() && machine.isDebian()) {
      const packages = [missing.chromium && APT_PACKAGES.chromium, missing.lists && APT_PACKAGES.lists, missing.prometheus && APT_PACKAGES.prometheus].filter(Boolean);
      machine.log(`installing ${packages.join(' ')} with apt-get (once; a minute or two)`);
      // Wait for another apt rather than fail on its lock; never ask a question.
      const env = { DEBIAN_FRONTEND: 'noninteractive' };
      const wait = ['-o', 'DPkg::Lock::Timeout=600'];
      if (!machine.run('apt-get', [...wait, 'update', '-qq'], env) || !machine.run('apt-get', [...wait, 'install', '-y', '-qq', ...packages], env)) {
        machine.log('apt-get failed; trying the other ways');
      }
      missing = missingOf(needs, machine);
    }
    if (missing.chromium) {
      machine.log("downloading Playwright's Chromium (npx playwright install chromium)");
      machine.run('npx', ['playwright', 'install', 'chromium']);
    }
    if (missing.lists) {
      for (const [name, url] of Object.entries(FILTER_LISTS)) {
        machine.log(`downloading ${url}`);
        try {
          await machine.download(url, join(CACHED_LISTS_DIR, name));
        } catch (error) {
          machine.log(`download failed: ${error instanceof Error ? error.message : String(error)}`);
          break;
        }
      }
    }
    missing = missingOf(needs, machine);
    // Only Debian packages it; elsewhere the Prometheus test skips (not under CI) and says so.
    if (missing.prometheus) {
      const sudo = machine.isRoot() ? '' : 'sudo ';
      machine.log(`Prometheus (server and promtool) missing: test/examples/prometheus.test.ts will skip; to run it: ${machine.isDebian() ? `${sudo}apt-get install -y prometheus` : 'install Prometheus so that /usr/bin/prometheus and /usr/bin/promtool exist'}`);
    }
    if (missing.chromium || missing.lists) throw new ProvisionError(missingMessage(missing, machine));
    return found();
  });
}

/**
 * Runs `fn` holding `dir` (created atomically by mkdir; the holder's pid inside). A lock whose
 * holder has died is taken over; a live holder is waited for.
 */
export async function withLock(dir, fn, { pollMs = 500, log = (line) => process.stderr.write(`provision: ${line}\n`) } = {}) {
  mkdirSync(resolve(dir, '..'), { recursive: true });
  let told = false;
  for (;;) {
    try {
      mkdirSync(dir);
      break;
    } catch (error) {
      if (error?.code !== 'EEXIST') throw error;
    }
    const holder = Number(readText(join(dir, 'pid')));
    if (holder && !alive(holder)) {
      rmSync(dir, { recursive: true, force: true });
      continue;
    }
    if (!told) log(`waiting for process ${holder || '?'}, which is installing the same things`);
    told = true;
    await new Promise((r) => setTimeout(r, pollMs));
  }
  writeFileSync(join(dir, 'pid'), String(process.pid));
  try {
    return await fn();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function readText(file) {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return ''; // Not written yet: the holder is between mkdir and writeFile.
  }
}

function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return error?.code === 'EPERM';
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  try {
    const where = await provision();
    console.log(`chromium: ${where.chromium}\nfilter lists: ${where.lists}`);
  } catch (error) {
    if (!(error instanceof ProvisionError)) throw error;
    console.error(error.message);
    process.exitCode = 1;
  }
}
