import { createContext, createElement, type FC, type PropsWithChildren } from 'react';
import type { UsermavenClient } from '../browser/index.ts';

/** The client the provider hands to the hooks; null outside a provider (and on a server, with umbeacon/next). */
export const UsermavenContext = createContext<UsermavenClient | null>(null);

export interface UsermavenProviderProps {
  client: UsermavenClient | null;
}

/**
 * Makes `client` (from `createClient`) available to `useUsermaven` and `usePageView` below it.
 * @example <UsermavenProvider client={usermaven}><App /></UsermavenProvider>
 */
export const UsermavenProvider: FC<PropsWithChildren<UsermavenProviderProps>> = ({ children, client }) =>
  createElement(UsermavenContext.Provider, { value: client }, children);
