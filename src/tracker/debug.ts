import { DEBUG } from './config.ts';

/** Logs to the console only with `data-debug`; the tracker is silent otherwise. */
export const log = (...a: unknown[]): undefined => (DEBUG && console.log('umbeacon', ...a), undefined);
