/* Entry: Ant Design in Vietnamese, TanStack Query joined to the Connect transport, the session,
 * the router. */
import { TransportProvider } from '@connectrpc/connect-query';
import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { App as AntApp, ConfigProvider } from 'antd';
import viVN from 'antd/locale/vi_VN';
import dayjs from 'dayjs';
import 'dayjs/locale/vi';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { BrowserRouter } from 'react-router-dom';
import { transport } from './api/transport';
import { keepSelectAriaOnInputs } from './a11y/selectAria';
import { App } from './App';
import './app.css';
import { SessionProvider } from './session';

dayjs.locale('vi');

// A person who asked their system for less motion gets none: dialogs and menus appear at once
// (also what makes a browser test's click land on a dialog's button, never on a growing one).
const reducedMotion = window.matchMedia('(prefers-reduced-motion: reduce)').matches;

const queryClient = new QueryClient({
  defaultOptions: {
    // a refused or missing thing does not get better by asking again
    queries: { retry: 1, refetchOnWindowFocus: false, staleTime: 15_000 },
  },
});

// the whole body: a Select may sit in a dialog, outside the root
keepSelectAriaOnInputs(document.body);

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <ConfigProvider locale={viVN} theme={{ token: { colorPrimary: '#1f5fa8', borderRadius: 4, motion: !reducedMotion } }}>
      <AntApp>
        <TransportProvider transport={transport}>
          <QueryClientProvider client={queryClient}>
            <SessionProvider>
              <BrowserRouter>
                <App />
              </BrowserRouter>
            </SessionProvider>
          </QueryClientProvider>
        </TransportProvider>
      </AntApp>
    </ConfigProvider>
  </StrictMode>,
);
