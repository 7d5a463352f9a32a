/**
 * The spool directory must exist and be writable. Node's recursive mkdir on a read-only file
 * system reports ENOENT for the missing directory, not EROFS, so without a check of our own a
 * read-only volume shows up as "ENOENT … mkdir".
 */
import { constants } from 'node:fs';
import { access, mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';

export class DirectoryNotWritableError extends Error {
  constructor(readonly dir: string, readonly code: string) {
    super(`${dir} is not writable (${code}): mount it read-write, or use a directory the user running this process can write`);
    this.name = 'DirectoryNotWritableError';
  }
}

export async function ensureWritableDir(dir: string): Promise<void> {
  try {
    await mkdir(dir, { recursive: true });
    await access(dir, constants.W_OK);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? '';
    if (!['ENOENT', 'EROFS', 'EACCES', 'EPERM'].includes(code)) throw error;
    // The nearest part of the path that exists says why.
    let at = dir;
    for (;;) {
      try {
        await access(at, constants.F_OK);
        break;
      } catch {
        if (dirname(at) === at) break;
        at = dirname(at);
      }
    }
    const reason = await access(at, constants.W_OK).then(
      () => code,
      (e: NodeJS.ErrnoException) => e.code ?? code,
    );
    throw new DirectoryNotWritableError(dir, reason);
  }
}
