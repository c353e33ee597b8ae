/* Who is using the application: WhoAmI at start (the HttpOnly session cookie decides; script
 * never holds a token), the forced password change of a first login, logout, and the end of a
 * session noticed by any call (transport.ts), shown on the login page with the reason. */
import { createClient } from '@connectrpc/connect';
import { useQueryClient } from '@tanstack/react-query';
import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from 'react';
import type { Role } from './api/gen/common_pb';
import { Identity, type Account } from './api/gen/identity_pb';
import { csrfToken } from './api/csrf';
import { logoutSession, onSessionExpired, refreshSession, transport } from './api/transport';
import { rightsOf, type Rights } from './lib/roles';

export type SessionState = 'loading' | 'anonymous' | 'mustChange' | 'ready';
export type EndReason = 'expired' | 'loggedOut' | null;

export interface Session {
  state: SessionState;
  account: Account | null;
  roles: Role[];
  rights: Rights;
  ended: EndReason;
  /* after Login or ChangePassword: read WhoAmI again */
  reload: () => Promise<void>;
  logout: () => Promise<void>;
}

const identity = createClient(Identity, transport);
const Ctx = createContext<Session | null>(null);

export function SessionProvider({ children }: { children: ReactNode }) {
  const qc = useQueryClient();
  const [state, setState] = useState<SessionState>('loading');
  const [account, setAccount] = useState<Account | null>(null);
  const [roles, setRoles] = useState<Role[]>([]);
  const [ended, setEnded] = useState<EndReason>(null);

  const reload = useCallback(async () => {
    let me = await identity.whoAmI({}).catch(() => null);
    if (!me && (await refreshSession())) me = await identity.whoAmI({}).catch(() => null);
    if (!me) {
      // the readable CSRF cookie outlives the session: it says there was one, now gone
      if (csrfToken()) setEnded((e) => e ?? 'expired');
      setAccount(null);
      setRoles([]);
      setState('anonymous');
      return;
    }
    setAccount(me.account ?? null);
    setRoles(me.roles);
    setEnded(null);
    setState(me.account?.mustChangePassword ? 'mustChange' : 'ready');
  }, []);

  useEffect(() => {
    void reload();
  }, [reload]);

  useEffect(
    () =>
      onSessionExpired(() => {
        qc.clear();
        setAccount(null);
        setRoles([]);
        setEnded('expired');
        setState('anonymous');
      }),
    [qc],
  );

  const logout = useCallback(async () => {
    await logoutSession();
    qc.clear();
    setAccount(null);
    setRoles([]);
    setEnded('loggedOut');
    setState('anonymous');
  }, [qc]);

  const value = useMemo<Session>(
    () => ({ state, account, roles, rights: rightsOf(roles), ended, reload, logout }),
    [state, account, roles, ended, reload, logout],
  );
  return <Ctx.Provider value={value}>{children}</Ctx.Provider>;
}

export function useSession(): Session {
  const s = useContext(Ctx);
  if (!s) throw new Error('useSession outside SessionProvider');
  return s;
}

export { identity };
