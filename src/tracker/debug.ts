import { DEBUG } from './config.ts';

/** Logs to the console only with `data-debug`; the tracker is silent otherwise. */
export const log = (...a: unknown[]): undefined => (DEBUG && console.log('umbeacon', ...a), undefined);

/**
 * Reports programmer misuse with the call to write instead. The API wrapper rethrows it
 * only with `data-debug`: loud while a site is built, harmless once it is live.
 */
export const misuse = (usage: string): never => {
  throw Error('umbeacon: use ' + usage);
};
