// The types of umbeacon/browser: the options and the client of @usermaven/sdk-js 1.5.15's
// `usermavenClient`, so an app swaps the import and keeps its calls (docs/frameworks.md).
// Self-contained: the declarations built from it (dist/app/types/) import nothing else.

export type Policy = 'strict' | 'keep' | 'comply';
export type EventPayload = Record<string, any>;
/** The signed-in user: a string `id` is required at run time, an `email` must be an address. */
export interface UserProps {
  id?: string;
  email?: string;
  created_at?: string;
  first_name?: string;
  last_name?: string;
  custom?: Record<string, any>;
  company?: { id?: string; name?: string; created_at?: string; custom?: Record<string, any> };
  [trait: string]: any;
}
export type CompanyProps = { id: string; name: string; created_at: string; [trait: string]: any };
export interface PropertyOptions {
  eventType?: string;
  /** Accepted for the official signature; properties are always kept across pages. */
  persist?: boolean;
}

/**
 * The official client's options (camelCase, or snake_case as it also takes them). Those that
 * shape what is sent are honoured; those about the official transport (`useBeaconApi`,
 * `maxSendAttempts`, `randomizeUrl`, hooks, …) are accepted and ignored: the relay and the
 * tracker's outbox take that job.
 */
export interface UsermavenOptions {
  /** The workspace key: names the official SDK's stored user, which is adopted. The relay adds the real key. */
  key?: string;
  /** The relay's origin (default: the page's). Usermaven's own host is ignored, as the tag ignores it. */
  trackingHost?: string;
  tracking_host?: string;
  /** umbeacon: the relay's collect path, like the tag's `data-endpoint` (default `/u/e`). */
  endpoint?: string;
  autocapture?: boolean;
  formTracking?: boolean | 'all' | 'tagged' | 'none';
  rageClick?: boolean;
  /** On by default: a pageview on load and once per route of a single-page app. */
  autoPageview?: boolean;
  privacyPolicy?: 'strict';
  cookiePolicy?: Policy;
  ipPolicy?: Policy;
  cookieDomain?: string;
  propertyBlacklist?: string[] | string;
  namespace?: string;
  crossDomainLinking?: boolean;
  domains?: string;
  maskAllText?: boolean;
  maskAllElementAttributes?: boolean;
  /** `'DEBUG'` logs what is sent and rethrows misuse, as the tag's `data-debug`. */
  logLevel?: string;
  /** umbeacon: nothing is sent until `consent(true)`, as the tag's `data-require-consent`. */
  requireConsent?: boolean;
  /** umbeacon: honour Do-Not-Track / Global Privacy Control, as `data-respect-dnt`. */
  respectDnt?: boolean;
  /** umbeacon: send also from browsers driven by automation (`navigator.webdriver`), which are skipped by default. */
  allowAutomation?: boolean;
  [option: string]: unknown;
}

/** A minimal logger, where the official client returns its own. */
export interface Logger {
  debug(...a: unknown[]): void;
  info(...a: unknown[]): void;
  warn(...a: unknown[]): void;
  error(...a: unknown[]): void;
}

/** The client `usermavenClient()` returns: the official UsermavenClient's public methods. */
export interface UsermavenClient {
  /** After sign-in: remembers the user and sends `user_identify` (not with `doNotSendEvent`). */
  id(userData: UserProps, doNotSendEvent?: boolean): Promise<void>;
  track(typeName: string, payload?: EventPayload, directSend?: boolean): void;
  lead(payload: EventPayload, directSend?: boolean): void;
  rawTrack(payload: any): void;
  group(props: CompanyProps, doNotSendEvent?: boolean): Promise<void>;
  pageview(): void;
  getConfig(): UsermavenOptions;
  getLogger(): Logger;
  reset(resetAnonId?: boolean): Promise<void>;
  set(properties: Record<string, any>, opts?: PropertyOptions): void;
  setUserId(userId: string): void;
  unset(propertyName: string, options?: PropertyOptions): void;
  /** A cookie of the page, or null. */
  getCookie(name: string): string | null;
  /** umbeacon: records consent (`false` opts out and drops what is not sent). */
  consent(granted?: boolean): void;
}
