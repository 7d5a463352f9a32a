/**
 * Static files from SITE_DIR, as a Web handler the relay falls back to. Safe against path
 * traversal: the decoded path is resolved under the root and must stay there (also through
 * symlinks); dot-files and NUL bytes are refused. Small sites only: files are read whole.
 */
import { readFile, realpath, stat } from 'node:fs/promises';
import { extname, join, resolve, sep } from 'node:path';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.gif': 'image/gif',
  '.ico': 'image/x-icon',
  '.txt': 'text/plain; charset=utf-8',
  '.webmanifest': 'application/manifest+json',
};

export function serveStatic(rootDir: string): (request: Request) => Promise<Response> {
  const root = resolve(rootDir);
  let realRoot: string | undefined;
  return async (request) => {
    if (request.method !== 'GET' && request.method !== 'HEAD') return notFound();
    realRoot ??= await realpath(root);
    let path: string;
    try {
      path = decodeURIComponent(new URL(request.url).pathname);
    } catch {
      return notFound();
    }
    if (path.includes('\0') || path.split(/[\\/]/).some((seg) => seg.startsWith('.'))) return notFound();
    let file = resolve(join(root, path));
    if (file !== root && !file.startsWith(root + sep)) return notFound();
    try {
      let info = await stat(file);
      if (info.isDirectory()) {
        file = join(file, 'index.html');
        info = await stat(file);
      }
      if (!info.isFile()) return notFound();
      const real = await realpath(file);
      if (!real.startsWith(realRoot + sep)) return notFound();
      const etag = `W/"${info.size.toString(16)}-${Math.floor(info.mtimeMs).toString(16)}"`;
      const headers = {
        'content-type': TYPES[extname(file).toLowerCase()] ?? 'application/octet-stream',
        'cache-control': 'no-cache',
        etag,
        'x-content-type-options': 'nosniff',
      };
      const inm = request.headers.get('if-none-match');
      if (inm && inm.split(',').some((t) => t.trim() === etag)) return new Response(null, { status: 304, headers });
      if (request.method === 'HEAD') return new Response(null, { status: 200, headers: { ...headers, 'content-length': String(info.size) } });
      return new Response(await readFile(file), { status: 200, headers });
    } catch {
      return notFound();
    }
  };
}

function notFound(): Response {
  return new Response('not found\n', { status: 404, headers: { 'content-type': 'text/plain; charset=utf-8' } });
}
