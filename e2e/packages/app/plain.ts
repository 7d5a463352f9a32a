// The same app without analytics: the baseline the size budget subtracts.
import { createElement as h } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './pages.ts';

createRoot(document.getElementById('root')!).render(h(App));
