/**
 * A small tmpfs of our own, without root: mounted inside a user + mount namespace held by a
 * `sleep`, and reached from outside through `/proc/<pid>/root`. Gives real ENOSPC and EROFS.
 * `canMountTmpfs` is false where user namespaces are not allowed (tests then skip).
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const canMountTmpfs = spawnSync('unshare', ['-r', '-m', 'true']).status === 0;

export interface Tmpfs {
  /** The mounted directory, as this process (and its children) reach it. */
  path: string;
  unmount(): Promise<void>;
}

export async function mountTmpfs(options: { size: string; readOnly?: boolean }): Promise<Tmpfs> {
  const mountPoint = mkdtempSync(join(tmpdir(), 'umbeacon-tmpfs-'));
  const flags = `size=${options.size}${options.readOnly ? ',ro' : ''}`;
  const holder = spawn('unshare', ['-r', '-m', 'sh', '-c', `mount -t tmpfs -o ${flags} tmpfs ${mountPoint} && echo mounted && exec sleep 600`], { stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<void>((r) => holder.once('exit', () => r()));
  await new Promise<void>((resolve, reject) => {
    holder.stdout!.once('data', () => resolve());
    void exited.then(() => reject(new Error(`could not mount a tmpfs at ${mountPoint}`)));
  });
  return {
    path: join(`/proc/${holder.pid}/root`, mountPoint),
    async unmount() {
      holder.kill('SIGKILL');
      await exited;
      rmSync(mountPoint, { recursive: true, force: true });
    },
  };
}
