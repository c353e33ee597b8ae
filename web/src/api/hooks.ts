/* Shared reads and the write helper: catalogues (loaded whole, they are small, and matched
 * without diacritics in the page), unit names, and invalidation of a service's cached reads
 * after a write (keys come from connect-query, per service and method). */
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
