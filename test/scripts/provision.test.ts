/**
 * What `npm test` does on machines it cannot be run on here without breaking this one: the
 * provisioning plays against a pretend machine (files, root or not, Debian or not, which
 * installers work) and the test reads what it ran and what it said.
 */
import { mkdtempSync, rmSync, writeFileSync, mkdirSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  CACHED_LISTS_DIR,
  DEBIAN_CHROMIUM,
  DEBIAN_LISTS_DIR,
  DEBIAN_PROMETHEUS,
  FILTER_LISTS,
  ProvisionError,
  provision,
  requireChromium,
  requireFilterLists,
  withLock,
  type Machine,
} from '../../scripts/provision.mjs';

const PLAYWRIGHT_CHROMIUM = '/home/me/.cache/ms-playwright/chromium-1255/chrome-linux64/chrome';
const listsIn = (dir: string) => Object.keys(FILTER_LISTS).map((name) => join(dir, name));

interface Pretend {
  files?: string[];
  root?: boolean;
  debian?: boolean;
  /** Which installers succeed. */
  works?: { apt?: boolean; playwright?: boolean; download?: boolean };
}

function pretendMachine({ files = [], root = false, debian = false, works = {} }: Pretend) {
  const present = new Set(files);
  const ran: string[] = [];
  const said: string[] = [];
  const machine: Machine = {
    exists: (path) => present.has(path),
    playwrightChromium: () => PLAYWRIGHT_CHROMIUM,
    isRoot: () => root,
    isDebian: () => debian,
    run(command, args, env = {}) {
      const envText = Object.entries(env).map(([k, v]) => `${k}=${v} `).join('');
      ran.push(`${envText}${[command, ...args].join(' ')}`);
      if (command === 'apt-get' && works.apt) {
        if (args.includes('chromium')) present.add(DEBIAN_CHROMIUM);
        if (args.includes('webext-ublock-origin-chromium')) listsIn(DEBIAN_LISTS_DIR).forEach((f) => present.add(f));
        if (args.includes('prometheus')) DEBIAN_PROMETHEUS.forEach((f) => present.add(f));
      }
      if (command === 'npx' && works.playwright) present.add(PLAYWRIGHT_CHROMIUM);
      return command === 'apt-get' ? works.apt === true : works.playwright === true;
    },
    async download(url, file) {
      ran.push(`download ${url}`);
      if (!works.download) throw new Error('getaddrinfo ENOTFOUND easylist.to');
      present.add(file);
    },
    log: (line) => said.push(line),
    lock: (fn) => fn(),
  };
  return { machine, ran, said, present };
}

const APT_UPDATE = 'DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 update -qq';
const aptInstall = (packages: string) => `DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq ${packages}`;
const DOWNLOADS = Object.values(FILTER_LISTS).map((url) => `download ${url}`);

describe('provisioning Chromium and the filter lists', () => {
  it.each([
    ['Debian’s Chromium and lists', [DEBIAN_CHROMIUM, ...listsIn(DEBIAN_LISTS_DIR)], DEBIAN_CHROMIUM, DEBIAN_LISTS_DIR],
    ['Playwright’s own Chromium and lists downloaded before', [PLAYWRIGHT_CHROMIUM, ...listsIn(CACHED_LISTS_DIR)], PLAYWRIGHT_CHROMIUM, CACHED_LISTS_DIR],
    ['both Chromiums: Debian’s first', [PLAYWRIGHT_CHROMIUM, DEBIAN_CHROMIUM, ...listsIn(CACHED_LISTS_DIR), ...listsIn(DEBIAN_LISTS_DIR)], DEBIAN_CHROMIUM, DEBIAN_LISTS_DIR],
  ])('uses what is installed and runs nothing: %s', async (_, files, chromium, lists) => {
    const { machine, ran, said } = pretendMachine({ files, root: true, debian: true, works: { apt: true } });
    await expect(provision({ chromium: true, lists: true }, machine)).resolves.toEqual({ chromium, lists });
    expect(ran).toEqual([]);
    expect(said).toEqual([]);
  });

  it('installs both with one apt-get, after an update, when it runs as root on Debian', async () => {
    const { machine, ran, said } = pretendMachine({ root: true, debian: true, works: { apt: true } });
    await expect(provision({ chromium: true, lists: true }, machine)).resolves.toEqual({ chromium: DEBIAN_CHROMIUM, lists: DEBIAN_LISTS_DIR });
    expect(ran).toEqual([APT_UPDATE, aptInstall('chromium webext-ublock-origin-chromium')]);
    expect(said).toEqual(['installing chromium webext-ublock-origin-chromium with apt-get (once; a minute or two)']);
  });

  it('installs only what is missing', async () => {
    const { machine, ran } = pretendMachine({ files: [DEBIAN_CHROMIUM], root: true, debian: true, works: { apt: true } });
    await provision({ chromium: true, lists: true }, machine);
    expect(ran).toEqual([APT_UPDATE, aptInstall('webext-ublock-origin-chromium')]);
  });

  it('provisions only what the selected suites need', async () => {
    const { machine, ran } = pretendMachine({ root: true, debian: true, works: { apt: true } });
    await expect(provision({ chromium: true, lists: false }, machine)).resolves.toMatchObject({ chromium: DEBIAN_CHROMIUM, lists: undefined });
    expect(ran).toEqual([APT_UPDATE, aptInstall('chromium')]);
  });

  it('falls back to Playwright’s download and easylist.to when apt-get fails', async () => {
    const { machine, ran, said } = pretendMachine({ root: true, debian: true, works: { playwright: true, download: true } });
    await expect(provision({ chromium: true, lists: true }, machine)).resolves.toEqual({ chromium: PLAYWRIGHT_CHROMIUM, lists: CACHED_LISTS_DIR });
    expect(ran).toEqual([APT_UPDATE, 'npx playwright install chromium', ...DOWNLOADS]);
    expect(said).toContain('apt-get failed; trying the other ways');
  });

  it('downloads without apt-get when not root, and without Debian', async () => {
    for (const pretend of [{ root: false, debian: true }, { root: true, debian: false }]) {
      const { machine, ran } = pretendMachine({ ...pretend, works: { playwright: true, download: true } });
      await expect(provision({ chromium: true, lists: true }, machine)).resolves.toEqual({ chromium: PLAYWRIGHT_CHROMIUM, lists: CACHED_LISTS_DIR });
      expect(ran).toEqual(['npx playwright install chromium', ...DOWNLOADS]);
    }
  });

  it.each([
    [
      'Debian, not root',
      { root: false, debian: true },
      'provision: Chromium and the EasyList/EasyPrivacy filter lists missing and could not be installed; run: sudo apt-get update && sudo apt-get install -y chromium webext-ublock-origin-chromium',
    ],
    [
      'Debian, root, apt-get failing',
      { root: true, debian: true },
      'provision: Chromium and the EasyList/EasyPrivacy filter lists missing and could not be installed; run: apt-get update && apt-get install -y chromium webext-ublock-origin-chromium',
    ],
    [
      'another system, offline',
      { root: false, debian: false },
      `provision: Chromium and the EasyList/EasyPrivacy filter lists missing and could not be installed; run: npx playwright install chromium && curl -fsSL --create-dirs -o ${CACHED_LISTS_DIR}/easylist.txt https://easylist.to/easylist/easylist.txt -o ${CACHED_LISTS_DIR}/easyprivacy.txt https://easylist.to/easylist/easyprivacy.txt`,
    ],
  ])('stops in one line naming the command when nothing works: %s', async (_, pretend, line) => {
    const { machine } = pretendMachine(pretend);
    const failure = await provision({ chromium: true, lists: true }, machine).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(ProvisionError);
    expect((failure as Error).message).toBe(line);
    expect((failure as Error).message).not.toContain('\n');
  });

  it('names only what is still missing', async () => {
    const { machine } = pretendMachine({ files: [DEBIAN_CHROMIUM], debian: false });
    await expect(provision({ chromium: true, lists: true }, machine)).rejects.toThrow(/^provision: the EasyList\/EasyPrivacy filter lists missing and could not be installed; run: curl /);
  });

  it('installs nothing when another process installed it while this one waited for the lock', async () => {
    const { machine, ran, present } = pretendMachine({ root: true, debian: true, works: { apt: true } });
    machine.lock = async (fn) => {
      [DEBIAN_CHROMIUM, ...listsIn(DEBIAN_LISTS_DIR)].forEach((f) => present.add(f));
      return fn();
    };
    await provision({ chromium: true, lists: true }, machine);
    expect(ran).toEqual([]);
  });

  it('points a runner started without npm test at the provisioning step', () => {
    const { machine } = pretendMachine({});
    expect(() => requireChromium(machine)).toThrow('provision: Chromium missing; run: node scripts/provision.mjs (npm test runs it first)');
    expect(() => requireFilterLists(machine)).toThrow('provision: the EasyList/EasyPrivacy filter lists missing; run: node scripts/provision.mjs (npm test runs it first)');
  });
});

describe('provisioning Prometheus for the alerts and dashboard test', () => {
  it('installs Debian’s prometheus in the same apt-get as the browser, as root on Debian', async () => {
    const { machine, ran } = pretendMachine({ root: true, debian: true, works: { apt: true } });
    await expect(provision({ chromium: true, lists: true, prometheus: true }, machine)).resolves.toEqual({
      chromium: DEBIAN_CHROMIUM,
      lists: DEBIAN_LISTS_DIR,
      prometheus: '/usr/bin',
    });
    expect(ran).toEqual([APT_UPDATE, aptInstall('chromium webext-ublock-origin-chromium prometheus')]);
  });

  it('goes on without it where it cannot be installed, and says how to get it', async () => {
    const files = [DEBIAN_CHROMIUM, ...listsIn(DEBIAN_LISTS_DIR)];
    const { machine, ran, said } = pretendMachine({ files, root: false, debian: true });
    await expect(provision({ chromium: true, lists: true, prometheus: true }, machine)).resolves.toEqual({
      chromium: DEBIAN_CHROMIUM,
      lists: DEBIAN_LISTS_DIR,
      prometheus: undefined,
    });
    expect(ran).toEqual([]);
    expect(said).toEqual(['Prometheus (server and promtool) missing: test/examples/prometheus.test.ts will skip; to run it: sudo apt-get install -y prometheus']);
  });

  it('runs nothing when both binaries are there', async () => {
    const { machine, ran } = pretendMachine({ files: [...DEBIAN_PROMETHEUS], root: true, debian: true, works: { apt: true } });
    await expect(provision({ prometheus: true }, machine)).resolves.toMatchObject({ prometheus: '/usr/bin' });
    expect(ran).toEqual([]);
  });
});

describe('the provisioning lock', () => {
  it('runs two provisioners one after the other', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'umbeacon-lock-'));
    try {
      const lock = join(dir, 'provision.lock');
      const order: string[] = [];
      const waits: string[] = [];
      const one = (name: string) =>
        withLock(lock, async () => {
          order.push(`${name} in`);
          await new Promise((r) => setTimeout(r, 50));
          order.push(`${name} out`);
        }, { pollMs: 10, log: (line) => waits.push(line) });
      await Promise.all([one('first'), one('second')]);
      expect(order).toEqual(['first in', 'first out', 'second in', 'second out']);
      expect(waits).toEqual([`waiting for process ${process.pid}, which is installing the same things`]);
      expect(existsSync(lock)).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('takes over the lock of a process that died holding it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'umbeacon-lock-'));
    try {
      const lock = join(dir, 'provision.lock');
      mkdirSync(lock);
      writeFileSync(join(lock, 'pid'), String(2 ** 31 - 2)); // above any pid_max: no such process
      await expect(withLock(lock, () => 'ran', { pollMs: 10, log: () => {} })).resolves.toBe('ran');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
