/* Form controls shared by the screens: a catalogue code chosen by its Vietnamese name (typed
 * with or without diacritics), a unit chosen in the lazily loaded tree, a unit anywhere in the
 * deployment chosen from the unit directory by name, a record of one's scope chosen by name,
 * and a date typed or picked as dd/mm/yyyy whose value stays the ISO text the services take. */
import { useQuery, useTransport } from '@connectrpc/connect-query';
import { createClient } from '@connectrpc/connect';
import { DatePicker, Select, TreeSelect } from 'antd';
import dayjs from 'dayjs';
import customParseFormat from 'dayjs/plugin/customParseFormat';
import { useEffect, useMemo, useState } from 'react';
import { useCatalog, useUnitNames } from '../api/hooks';
import { Records } from '../api/gen/records_pb';
import { Identity, type Unit } from '../api/gen/identity_pb';
import { fold } from '../lib/fold';
import { useSession } from '../session';

dayjs.extend(customParseFormat);

interface ValueProps<T> {
  value?: T;
  onChange?: (v: T) => void;
  id?: string;
  placeholder?: string;
  disabled?: boolean;
  'aria-label'?: string;
}

export function CatalogSelect(props: ValueProps<string> & { catalog: string; allowClear?: boolean }) {
  const { entries, loading } = useCatalog(props.catalog);
  const options = useMemo(() => entries.map((e) => ({ value: e.code, label: e.name, search: fold(`${e.code} ${e.name}`) })), [entries]);
  return (
    <Select
      id={props.id}
      aria-label={props['aria-label']}
      value={props.value || undefined}
      onChange={(v: string | undefined) => props.onChange?.(v ?? '')}
      options={options}
      loading={loading}
      showSearch
      allowClear={props.allowClear ?? true}
      disabled={props.disabled}
      placeholder={props.placeholder}
      filterOption={(input, o) => !!o && o.search.includes(fold(input))}
    />
  );
}

export function CatalogMultiSelect(props: ValueProps<string[]> & { catalog: string }) {
  const { entries, loading } = useCatalog(props.catalog);
  const options = useMemo(() => entries.map((e) => ({ value: e.code, label: e.name, search: fold(`${e.code} ${e.name}`) })), [entries]);
  return (
    <Select
      mode="multiple"
      id={props.id}
      aria-label={props['aria-label']}
      value={props.value ?? []}
      onChange={(v: string[]) => props.onChange?.(v)}
      options={options}
      loading={loading}
      allowClear
      maxTagCount="responsive"
      placeholder={props.placeholder}
      filterOption={(input, o) => !!o && o.search.includes(fold(input))}
    />
  );
}

interface TreeNode {
  id: string;
  pId: string;
  value: string;
  title: string;
  isLeaf: boolean;
}

function node(u: Unit, parent: string): TreeNode {
  return { id: u.id, pId: parent, value: u.id, title: u.name, isLeaf: u.childCount === 0 };
}

/* The viewer's own unit first; children are read when a branch opens. */
export function UnitSelect(props: ValueProps<string> & { allowClear?: boolean; rootId?: string }) {
  const s = useSession();
  const transport = useTransport();
  const client = useMemo(() => createClient(Identity, transport), [transport]);
  const rootId = props.rootId ?? s.account?.unitId ?? '';
  const root = useQuery(Identity.method.getUnit, { unitId: rootId }, { enabled: !!rootId });
  const [nodes, setNodes] = useState<TreeNode[]>([]);
  useEffect(() => {
    if (root.data?.unit) setNodes([node(root.data.unit, '')]);
  }, [root.data]);
  const load = async (id: string) => {
    const r = await client.listChildUnits({ unitId: id, pageSize: 500 });
    setNodes((cur) => [...cur.filter((n) => n.pId !== id), ...r.units.map((u) => node(u, id))]);
  };
  // a value chosen elsewhere (a shared URL): open the branches down to it, so its name shows
  const value = props.value;
  const known = nodes.some((n) => n.id === value);
  useEffect(() => {
    if (!value || known || !nodes.length) return;
    let gone = false;
    void (async () => {
      const u = (await client.getUnit({ unitId: value }).catch(() => null))?.unit;
      const ids = u?.path.split('.') ?? [];
      const from = ids.indexOf(rootId);
      if (!u || from < 0) return;
      for (const id of ids.slice(from, -1)) {
        if (gone) return;
        const r = await client.listChildUnits({ unitId: id, pageSize: 500 });
        setNodes((cur) => [...cur.filter((n) => n.pId !== id), ...r.units.map((x) => node(x, id))]);
      }
    })();
    return () => {
      gone = true;
    };
  }, [value, known, nodes.length, client, rootId]);
  return (
    <TreeSelect
      id={props.id}
      aria-label={props['aria-label']}
      treeDataSimpleMode
      treeData={nodes}
      value={props.value || undefined}
      onChange={(v: string | undefined) => props.onChange?.(v ?? '')}
      loadData={(n) => load(String(n.value))}
      allowClear={props.allowClear ?? true}
      showSearch
      treeNodeFilterProp="title"
      filterTreeNode={(input, n) => fold(String(n.title ?? '')).includes(fold(input))}
      placeholder={props.placeholder}
      disabled={props.disabled}
      popupMatchSelectWidth={false}
      style={{ minWidth: 260 }}
    />
  );
}

const FORMAT = 'DD/MM/YYYY';

export function DateField(props: ValueProps<string> & { allowClear?: boolean }) {
  const v = props.value && dayjs(props.value, 'YYYY-MM-DD', true).isValid() ? dayjs(props.value, 'YYYY-MM-DD') : null;
  return (
    <DatePicker
      id={props.id}
      aria-label={props['aria-label']}
      value={v}
      format={FORMAT}
      placeholder={props.placeholder ?? 'dd/mm/yyyy'}
      disabled={props.disabled}
      allowClear={props.allowClear ?? true}
      onChange={(d) => props.onChange?.(d ? d.format('YYYY-MM-DD') : '')}
      // Enter takes the typed date; it must not also submit the form around the field (a report
      // form would start a download with the fields not yet filled)
      onKeyDown={(e) => { if (e.key === 'Enter') e.preventDefault(); }}
      style={{ width: '100%' }}
    />
  );
}

/* A unit anywhere in the deployment (a transfer's receiving unit in another district), found in
 * the unit directory by its name or code as typed; shown with its parent's name, since two
 * communes of different districts may share a name. */
export function UnitDirectorySelect(props: ValueProps<string> & { allowClear?: boolean; exclude?: string[] }) {
  const [query, setQuery] = useState('');
  const q = useQuery(Identity.method.listUnitDirectory, { query: query.trim().normalize('NFC'), pageSize: 30 }, { placeholderData: (p) => p });
  const names = useUnitNames(props.value ? [props.value] : []);
  const options = useMemo(() => {
    const found = (q.data?.units ?? []).filter((u) => !props.exclude?.includes(u.id))
      .map((u) => ({ value: u.id, label: u.parentName ? `${u.name} — ${u.parentName}` : u.name }));
    if (props.value && !found.some((o) => o.value === props.value)) found.unshift({ value: props.value, label: names.get(props.value) ?? props.value });
    return found;
  }, [q.data, props.value, props.exclude, names]);
  return (
    <Select
      id={props.id}
      aria-label={props['aria-label']}
      showSearch
      filterOption={false}
      onSearch={setQuery}
      value={props.value || undefined}
      onChange={(v: string | undefined) => props.onChange?.(v ?? '')}
      options={options}
      loading={q.isFetching}
      allowClear={props.allowClear ?? true}
      placeholder={props.placeholder}
      disabled={props.disabled}
      popupMatchSelectWidth={false}
      style={{ minWidth: 280 }}
    />
  );
}

/* A record of the caller's scope, found by name (with or without diacritics). */
export function RecordSelect(props: ValueProps<string> & { label?: string }) {
  const [query, setQuery] = useState('');
  const q = useQuery(Records.method.searchRecords, { name: query.trim().normalize('NFC'), statuses: [1], pageSize: 20 }, { enabled: query.trim().length > 1, placeholderData: (p) => p });
  const one = useQuery(Records.method.getRecord, { recordId: props.value ?? '' }, { enabled: !!props.value && !query });
  const options = useMemo(() => {
    const found = (q.data?.records ?? []).map((r) => ({ value: r.id, label: `${r.fullName} (${r.birthDate.split('-').reverse().join('/')})` }));
    const cur = one.data?.record;
    if (props.value && cur && !found.some((o) => o.value === props.value))
      found.unshift({ value: cur.id, label: `${cur.fullName} (${cur.birthDate.split('-').reverse().join('/')})` });
    return found;
  }, [q.data, one.data, props.value]);
  return (
    <Select
      id={props.id}
      aria-label={props['aria-label']}
      showSearch
      filterOption={false}
      onSearch={setQuery}
      value={props.value || undefined}
      onChange={(v: string | undefined) => props.onChange?.(v ?? '')}
      options={options}
      loading={q.isFetching}
      placeholder={props.placeholder}
      disabled={props.disabled}
      notFoundContent={null}
      style={{ width: '100%' }}
    />
  );
}
