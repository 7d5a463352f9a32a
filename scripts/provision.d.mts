/** Types of provision.mjs (plain JavaScript: it runs under plain node before any build). Keep the two in step. */

export declare const ROOT: string;
export declare const DEBIAN_CHROMIUM: string;
export declare const DEBIAN_LISTS_DIR: string;
export declare const CACHE_DIR: string;
export declare const CACHED_LISTS_DIR: string;
export declare const FILTER_LISTS: Readonly<Record<'easylist.txt' | 'easyprivacy.txt', string>>;
export declare const APT_PACKAGES: Readonly<{ chromium: string; lists: string; prometheus: string }>;
export declare const DEBIAN_PROMETHEUS: readonly string[];

export declare class ProvisionError extends Error {}

export interface Needs {
  chromium?: boolean;
  lists?: boolean;
  prometheus?: boolean;
}

export interface Missing {
  chromium: boolean;
  lists: boolean;
  prometheus?: boolean;
}

/** Every fact about the machine and every action provisioning takes. */
export interface Machine {
  exists(path: string): boolean;
  /** Where Playwright keeps (or would keep) its own Chromium. */
  playwrightChromium(): string | undefined;
  isRoot(): boolean;
  /** Debian (or a derivative) with apt-get. */
  isDebian(): boolean;
  /** Runs a command, its output on stderr; true when it exits 0. */
  run(command: string, args: readonly string[], env?: Record<string, string>): boolean;
  download(url: string, file: string): Promise<void>;
  log(line: string): void;
  lock<T>(fn: () => Promise<T>): Promise<T>;
}

export interface Found {
  chromium: string | undefined;
  lists: string | undefined;
  prometheus: string | undefined;
}

export declare function realMachine(): Machine;
/** The Chromium to launch, or undefined when the machine has none. */
export declare function findChromium(machine?: Machine): string | undefined;
/** The directory holding easylist.txt and easyprivacy.txt, or undefined. */
export declare function findFilterLists(machine?: Machine): string | undefined;
/** The directory holding Debian's prometheus and promtool, or undefined. */
export declare function findPrometheus(machine?: Machine): string | undefined;
/** The one line naming the command that installs what is missing. */
export declare function missingMessage(missing: Missing, machine: Machine): string;
/** Finds what `needs` names and installs what is missing; rejects with a `ProvisionError` (one line). */
export declare function provision(needs?: Needs, machine?: Machine): Promise<Found>;
/** Runs `fn` holding the lock directory `dir`; waits for a live holder, takes over a dead one's. */
export declare function withLock<T>(dir: string, fn: () => Promise<T> | T, options?: { pollMs?: number; log?: (line: string) => void }): Promise<T>;
/** `findChromium()`, or a `ProvisionError` naming `node scripts/provision.mjs`. */
export declare function requireChromium(machine?: Machine): string;
/** `findFilterLists()`, or a `ProvisionError` naming `node scripts/provision.mjs`. */
export declare function requireFilterLists(machine?: Machine): string;
