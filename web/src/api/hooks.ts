/* Shared reads and the write helper: catalogues (loaded whole, they are small, and matched
 * without diacritics in the page), unit names (in scope by GetUnit, anywhere by the unit
 * directory, which gives names only), and invalidation of a service's cached reads after a
 * write (keys come from connect-query, per service and method). */
import { createConnectQueryKey, useQuery } from '@connectrpc/connect-query';
import { useQueryClient } from '@tanstack/react-query';
import { useCallback, useMemo } from 'react';
import type { DescService } from '@bufbuild/protobuf';
import { Identity } from './gen/identity_pb';
import { Records, type CatalogEntry } from './gen/records_pb';

export function useCatalog(catalog: string): { entries: CatalogEntry[]; names: Map<string, string>; loading: boolean } {
  const q = useQuery(Records.method.listCatalog, { catalog, pageSize: 500 }, { staleTime: 600_000 });
  return useMemo(() => {
    const entries = q.data?.entries ?? [];
    return { entries, names: new Map(entries.map((e) => [e.code, e.name])), loading: q.isLoading };
  }, [q.data, q.isLoading]);
}

export function useUnitName(unitId: string | undefined): string {
  const q = useQuery(Identity.method.getUnit, { unitId: unitId ?? '' }, { enabled: !!unitId, staleTime: 300_000 });
  return q.data?.unit?.name ?? '';
}

export function useInvalidate(): (...services: DescService[]) => Promise<void> {
  const qc = useQueryClient();
  return useCallback(
    async (...services: DescService[]) => {
      await Promise.all(
        services.map((s) => qc.invalidateQueries({ queryKey: createConnectQueryKey({ schema: s, cardinality: undefined }) })),
      );
    },
    [qc],
  );
}

/* Names of units wherever they are (the other side of a transfer), from the unit directory:
 * one call for the ids of a page, cached. */
export function useUnitNames(ids: readonly string[]): Map<string, string> {
  const want = useMemo(() => [...new Set(ids.filter(Boolean))].sort(), [ids]);
  const q = useQuery(Identity.method.listUnitDirectory, { unitIds: want }, { enabled: want.length > 0 && want.length <= 100, staleTime: 300_000 });
  return useMemo(() => new Map((q.data?.units ?? []).map((u) => [u.id, u.name])), [q.data]);
}

/* Names of the people who acted (a version's approver, a template's last editor), where the
 * viewer may know them: identity's GetAccountNames gives the viewer's own name and those of
 * the accounts of its units (docs/SECURITY.md); an id left out is shown as the id. Only
 * account ids are asked (a shipped template's "reporting" is not one); one call per set of ids
 * (a page's templates, a version's changes that name an approver), cached. */
export function useAccountNames(ids: readonly string[]): Map<string, string> {
  const want = useMemo(() => [...new Set(ids.filter((i) => /^\d+$/.test(i)))].sort(), [ids]);
  const q = useQuery(Identity.method.getAccountNames, { accountIds: want }, { enabled: want.length > 0 && want.length <= 100, staleTime: 300_000 });
  return useMemo(() => new Map((q.data?.accounts ?? []).map((a) => [a.id, a.fullName])), [q.data]);
}
