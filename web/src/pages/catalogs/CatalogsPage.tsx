/* The shared catalogues (danh mục, 001 Đ8.1) for the system administrator: a catalogue's
 * entries, server paged and filtered by code or name as typed (the service folds diacritics),
 * inactive ones on request; an entry added or changed (versioned: a stale save is refused and
 * says so), ranks with their salary group and step coefficients. Codes are never deleted:
 * an entry stops being used. */
import { useQuery, useTransport } from '@connectrpc/connect-query';
import { createClient } from '@connectrpc/connect';
import { PlusOutlined } from '@ant-design/icons';
import { Alert, Button, Checkbox, Form, Input, InputNumber, Modal, Select, Space, Switch, Table, Tag, App as AntApp } from 'antd';
import { useState } from 'react';
import { useSearchParams } from 'react-router-dom';
import { errorText, fieldErrors } from '../../api/errors';
import { useInvalidate } from '../../api/hooks';
import { Records, type CatalogEntry } from '../../api/gen/records_pb';
import { ErrorBanner } from '../../components/ErrorBanner';
import { Page } from '../../components/Page';
import { vi } from '../../i18n/vi';
import { timeText } from '../../lib/format';

/* Every catalogue of the contract (CatalogEntry.catalog), by its Vietnamese name. */
export const CATALOGS = ['ETHNICITY', 'RELIGION', 'RANK', 'SALARY_STEP', 'ALLOWANCE', 'DEGREE', 'POLITICAL_THEORY', 'STATE_MANAGEMENT', 'SCHOOL',
  'MAJOR', 'POSITION', 'UNIT_TYPE', 'TITLE', 'REWARD_FORM', 'DISCIPLINE_FORM', 'RELATION', 'RECORD_STATUS', 'STAFFING'];

interface EntryValues {
  code: string;
  name: string;
  parentCode?: string;
  active: boolean;
  sortOrder?: number;
  rankGroup?: string;
  coefficients?: string;
  stepYears?: number;
}

export function CatalogsPage() {
  const [params, setParams] = useSearchParams();
  const catalog = CATALOGS.includes(params.get('c') ?? '') ? (params.get('c') as string) : 'ETHNICITY';
  const prefix = params.get('q') ?? '';
  const inactive = params.get('all') === '1';
  const pageToken = params.get('pt') ?? '';
  const q = useQuery(Records.method.listCatalog, { catalog, prefix: prefix.normalize('NFC'), includeInactive: inactive, pageSize: 50, pageToken }, { placeholderData: (p) => p });
  const [history, setHistory] = useState<string[]>([]);
  const [editing, setEditing] = useState<CatalogEntry | 'new' | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [form] = Form.useForm();
  const transport = useTransport();
  const invalidate = useInvalidate();
  const { message } = AntApp.useApp();

  const set = (patch: Record<string, string>) => {
    const p = new URLSearchParams(params);
    for (const [k, v] of Object.entries(patch)) if (v) p.set(k, v); else p.delete(k);
    if (!('pt' in patch)) {
      p.delete('pt');
      setHistory([]);
    }
    setParams(p);
  };

  const open = (e: CatalogEntry | 'new') => {
    setError(null);
    form.resetFields();
    if (e === 'new') form.setFieldsValue({ active: true, sortOrder: 0 });
    else form.setFieldsValue({ ...e, coefficients: e.stepCoefficients.join(', ') });
    setEditing(e);
  };

  const save = async () => {
    const v = (await form.validateFields().catch(() => null)) as EntryValues | null;
    if (!v || !editing) return;
    setBusy(true);
    setError(null);
    try {
      const coefficients = (v.coefficients ?? '').split(/[,;\s]+/).map((x) => x.trim().replace(',', '.')).filter(Boolean);
      await createClient(Records, transport).upsertCatalogEntry({
        entry: { catalog, code: v.code.trim(), name: v.name.trim().normalize('NFC'), parentCode: (v.parentCode ?? '').trim(), active: v.active, sortOrder: v.sortOrder ?? 0,
          rankGroup: (v.rankGroup ?? '').trim(), stepCoefficients: coefficients, stepYears: v.stepYears ?? 0 },
        expectedVersion: editing === 'new' ? 0n : editing.version,
      });
      void message.success(vi.catalogs.saved);
      setEditing(null);
      await invalidate(Records);
    } catch (e) {
      const fe = fieldErrors(e, 'entry')?.map((f) => (f.name[0] === 'stepCoefficients' ? { ...f, name: ['coefficients'] } : f));
      if (fe) form.setFields(fe);
      setError(e);
    } finally {
      setBusy(false);
    }
  };

  const rank = catalog === 'RANK';
  return (
    <Page crumbs={[{ title: vi.menu.home, to: '/' }, { title: vi.catalogs.title }]} title={vi.catalogs.title}
      extra={<Button type="primary" icon={<PlusOutlined />} onClick={() => open('new')}>{vi.catalogs.add}</Button>}>
      <Space wrap style={{ marginBottom: 12 }}>
        <Select aria-label={vi.catalogs.catalog} value={catalog} style={{ width: 280 }} onChange={(c: string) => set({ c, q: '' })} showSearch optionFilterProp="label"
          options={CATALOGS.map((c) => ({ value: c, label: vi.catalog[c] ?? c }))} />
        <Input.Search aria-label={vi.catalogs.filter} placeholder={vi.catalogs.filter} defaultValue={prefix} key={`${catalog}-${prefix}`} allowClear style={{ width: 300 }}
          onSearch={(v) => set({ q: v.trim() })} />
        <Switch checked={inactive} onChange={(b) => set({ all: b ? '1' : '' })} aria-label={vi.catalogs.showInactive} /><span>{vi.catalogs.showInactive}</span>
      </Space>
      <ErrorBanner error={q.error} />
      <Table<CatalogEntry> rowKey="code" size="small" loading={q.isFetching} dataSource={q.data?.entries ?? []} pagination={false} scroll={{ x: 900 }}
        columns={[
          { title: vi.catalogs.code, dataIndex: 'code', width: 120 },
          { title: vi.catalogs.name, dataIndex: 'name' },
          ...(rank ? [{ title: vi.catalogs.group, dataIndex: 'rankGroup', width: 120 }, { title: vi.catalogs.coefficients, dataIndex: 'stepCoefficients', render: (c: string[]) => c.join('; ') }] : []),
          { title: vi.catalogs.parent, dataIndex: 'parentCode', width: 120 },
          { title: vi.catalogs.sort, dataIndex: 'sortOrder', width: 90 },
          { title: vi.accounts.status, dataIndex: 'active', width: 120, render: (a: boolean) => (a ? <Tag color="green">{vi.catalogs.active}</Tag> : <Tag>{vi.catalogs.inactive}</Tag>) },
          { title: vi.records.updated, dataIndex: 'updatedAt', width: 140, render: (v: string) => timeText(v) },
          { title: vi.common.actions, key: 'a', width: 90, render: (_: unknown, e) => <Button size="small" onClick={() => open(e)}>{vi.catalogs.edit}</Button> },
        ]}
        footer={() => (
          <Space>
            <Button disabled={!pageToken} onClick={() => { setHistory([]); set({ pt: '' }); }}>{vi.common.first}</Button>
            <Button disabled={!pageToken} onClick={() => { const h = [...history]; const prev = h.pop() ?? ''; setHistory(h); set({ pt: prev }); }}>{vi.common.prev}</Button>
            <Button disabled={!q.data?.nextPageToken} onClick={() => { setHistory([...history, pageToken]); set({ pt: q.data?.nextPageToken ?? '' }); }}>{vi.common.next}</Button>
          </Space>
        )} />
      <Modal open={editing !== null} title={`${vi.catalog[catalog] ?? catalog}: ${editing === 'new' ? vi.catalogs.add : `${vi.catalogs.edit} ${editing?.code ?? ''}`}`}
        okText={vi.common.save} cancelText={vi.common.cancel} confirmLoading={busy} onOk={() => void save()} onCancel={() => setEditing(null)} destroyOnClose>
        {error !== null && <Alert type="error" showIcon role="alert" message={errorText(error)} style={{ marginBottom: 12 }} />}
        <Form form={form} layout="vertical" preserve={false}>
          <Form.Item name="code" label={vi.catalogs.code} rules={[{ required: true, whitespace: true, message: vi.errors.required }]}><Input disabled={editing !== 'new'} /></Form.Item>
          <Form.Item name="name" label={vi.catalogs.name} rules={[{ required: true, whitespace: true, message: vi.errors.required }]}><Input /></Form.Item>
          <Form.Item name="parentCode" label={vi.catalogs.parent}><Input /></Form.Item>
          {rank && <>
            <Form.Item name="rankGroup" label={vi.catalogs.group}><Input placeholder="A1" /></Form.Item>
            <Form.Item name="coefficients" label={vi.catalogs.coefficients}><Input placeholder="2.34, 2.67, 3.00" /></Form.Item>
            <Form.Item name="stepYears" label={vi.catalogs.stepYears}><InputNumber min={0} max={10} /></Form.Item>
          </>}
          <Form.Item name="sortOrder" label={vi.catalogs.sort}><InputNumber min={0} /></Form.Item>
          <Form.Item name="active" valuePropName="checked"><Checkbox>{vi.catalogs.active}</Checkbox></Form.Item>
        </Form>
      </Modal>
    </Page>
  );
}
