/**
 * A Web `Request` for node:http without paying for undici's `Request` (and its body stream)
 * on every beacon. `url`, `method` and `headers.get/has` read straight from node:http's
 * parsed request; touching anything else (`body`, `signal`, `text()`, iteration …) builds the
 * real `Request` once and delegates to it, so the object behaves like a Request everywhere.
 * The same idea as @hono/node-server's lightweight request (src/request.ts); written afresh.
 *
 * Profiling the relay under autocannon showed Request construction (body extraction, stream
 * setup, transferable marking) as the largest single cost of a small POST.
 */

/** Values as WHATWG `Headers#get` returns them: every field of that name, joined by ", ". */
function getRaw(raw: readonly string[], name: string): string | null {
  const wanted = name.toLowerCase();
  let value: string | null = null;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    if (raw[i]!.length === wanted.length && raw[i]!.toLowerCase() === wanted) value = value === null ? raw[i + 1]! : `${value}, ${raw[i + 1]!}`;
  }
  return value;
}

function realHeaders(raw: readonly string[]): Headers {
  const headers = new Headers();
  for (let i = 0; i + 1 < raw.length; i += 2) {
    try {
      headers.append(raw[i]!, raw[i + 1]!);
    } catch {
      // node:http already rejects malformed headers; skip what WHATWG Headers refuses.
    }
  }
  return headers;
}

class LightHeaders {
  readonly #raw: readonly string[];
  #real: Headers | undefined;
  constructor(raw: readonly string[]) {
    this.#raw = raw;
  }
  get(name: string): string | null {
    return getRaw(this.#raw, name);
  }
  has(name: string): boolean {
    return getRaw(this.#raw, name) !== null;
  }
  real(): Headers {
    return (this.#real ??= realHeaders(this.#raw));
  }
}

class LightRequest {
  readonly #url: string;
  readonly #method: string;
  readonly #raw: readonly string[];
  readonly #body: Uint8Array | undefined;
  #headers: LightHeaders | undefined;
  #real: Request | undefined;
  constructor(url: string, method: string, raw: readonly string[], body: Uint8Array | undefined) {
    this.#url = url;
    this.#method = method;
    this.#raw = raw;
    this.#body = body;
  }
  get url(): string {
    return this.#url;
  }
  get method(): string {
    return this.#method;
  }
  get headers(): Headers {
    return (this.#headers ??= new LightHeaders(this.#raw)) as unknown as Headers;
  }
  real(): Request {
    if (!this.#real) {
      const init: RequestInit = { method: this.#method, headers: (this.headers as unknown as LightHeaders).real() };
      if (this.#body) init.body = this.#body as Uint8Array<ArrayBuffer>;
      this.#real = new Request(this.#url, init);
    }
    return this.#real;
  }
}

/** Everything not implemented above is delegated to the real object, built on first use. */
function delegate(light: { prototype: object }, real: { prototype: object }) {
  for (const key of Reflect.ownKeys(real.prototype)) {
    if (key === 'constructor' || Object.prototype.hasOwnProperty.call(light.prototype, key)) continue;
    const desc = Object.getOwnPropertyDescriptor(real.prototype, key)!;
    if (desc.get) {
      Object.defineProperty(light.prototype, key, {
        get(this: { real(): object }) {
          return Reflect.get(this.real(), key);
        },
        configurable: true,
      });
    } else if (typeof desc.value === 'function') {
      Object.defineProperty(light.prototype, key, {
        value(this: { real(): Record<PropertyKey, (...a: unknown[]) => unknown> }, ...args: unknown[]) {
          const target = this.real();
          return target[key as string]!.apply(target, args);
        },
        configurable: true,
        writable: true,
      });
    }
  }
  // `instanceof Request` / `instanceof Headers` hold.
  Object.setPrototypeOf(light.prototype, real.prototype);
}
delegate(LightHeaders, Headers);
delegate(LightRequest, Request);

export function lightRequest(url: string, method: string, rawHeaders: readonly string[], body?: Uint8Array): Request {
  return new LightRequest(url, method, rawHeaders, body) as unknown as Request;
}
