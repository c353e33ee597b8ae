/* The unit tree, loaded a level at a time and searchable by name (typed without diacritics
 * too), a unit's details with its staffing quota against the people it manages, its history,
 * and for the system administrator: create, rename, move, merge (each with its decision). */
import { useQuery, useTransport } from '@connectrpc/connect-query';
import { createClient } from '@connectrpc/connect';
import { Alert, Button, Card, Col, Descriptions, Form, Input, InputNumber, Modal, Row, Select, Space, Table, Tree, App as AntApp } from 'antd';
import type { DataNode } from 'antd/es/tree';
import { useEffect, useMemo, useState } from 'react';
import { Link, useNavigate, useParams } from 'react-router-dom';
import { errorText } from '../../api/errors';
import { useInvalidate } from '../../api/hooks';
import { Identity, type Unit, UnitStatus } from '../../api/gen/identity_pb';
import { Records } from '../../api/gen/records_pb';
import { UnitSelect } from '../../components/Pickers';
import { ErrorBanner } from '../../components/ErrorBanner';
import { Page } from '../../components/Page';
import { vi } from '../../i18n/vi';
import { numberText, timeText, totalText } from '../../lib/format';
import { matchesWords } from '../../lib/fold';
import { useSession } from '../../session';

type Op = 'create' | 'rename' | 'move' | 'merge' | null;

function toNode(u: Unit): DataNode {
  return { key: u.id, title: u.status === UnitStatus.DISSOLVED ? `${u.name} (${vi.units.dissolved})` : u.name, isLeaf: u.childCount === 0 };
}

function insert(nodes: DataNode[], key: string, children: DataNode[]): DataNode[] {
  return nodes.map((n) => (n.key === key ? { ...n, children } : n.children ? { ...n, children: insert(n.children, key, children) } : n));
}

export function UnitsPage() {
  const { id } = useParams();
  const s = useSession();
  const nav = useNavigate();
  const transport = useTransport();
  const client = useMemo(() => createClient(Identity, transport), [transport]);
  const invalidate = useInvalidate();
  const { message } = AntApp.useApp();
  const rootId = s.account?.unitId ?? '';
  const root = useQuery(Identity.method.getUnit, { unitId: rootId }, { enabled: !!rootId });
  const [tree, setTree] = useState<DataNode[]>([]);
  const [filter, setFilter] = useState('');
  const sub = useQuery(Identity.method.getUnitSubtree, { unitId: rootId, pageSize: 500 }, { enabled: !!rootId && filter.trim().length > 1 });
  const selectedId = id ?? rootId;
  const unit = useQuery(Identity.method.getUnit, { unitId: selectedId }, { enabled: !!selectedId });
  const history = useQuery(Identity.method.listUnitHistory, { unitId: selectedId }, { enabled: !!selectedId });
  const present = useQuery(Records.method.searchRecords, { unitId: selectedId, statuses: [1], pageSize: 1 }, { enabled: !!selectedId && s.rights.read });
  const [op, setOp] = useState<Op>(null);
  const [busy, setBusy] = useState(false);
  const [opError, setOpError] = useState<unknown>(null);
  const [form] = Form.useForm();

  useEffect(() => {
    if (root.data?.unit) setTree([toNode(root.data.unit)]);
  }, [root.data]);

  const load = async (key: string) => {
    const r = await client.listChildUnits({ unitId: key, pageSize: 500, includeDissolved: true });
    setTree((t) => insert(t, key, r.units.map(toNode)));
  };

  const u = unit.data?.unit;
  const run = async () => {
    if (!u) return;
    // a field left wrong is shown on that field by the form itself: nothing to send
    const v = (await form.validateFields().catch(() => null)) as Record<string, string | number> | null;
    if (!v) return;
    setBusy(true);
    setOpError(null);
    try {
      if (op === 'create') {
        const r = await client.createUnit({ parentId: u.id, code: String(v.code), name: String(v.name), type: Number(v.type), staffingQuota: Number(v.quota ?? 0), requestId: crypto.randomUUID() });
        nav(`/units/${r.unit?.id ?? ''}`);
      }
      if (op === 'rename')
        await client.updateUnit({ unitId: u.id, name: String(v.name), code: String(v.code), staffingQuota: Number(v.quota ?? 0), updateMask: ['name', 'code', 'staffing_quota'], expectedVersion: u.version, reason: String(v.reason ?? '') });
      if (op === 'move') await client.moveUnit({ unitId: u.id, newParentId: String(v.parent), reason: String(v.reason) });
      if (op === 'merge') await client.mergeUnits({ sourceUnitId: u.id, targetUnitId: String(v.target), reason: String(v.reason), requestId: crypto.randomUUID() });
      void message.success(vi.common.saved);
      setOp(null);
      await invalidate(Identity);
      if (root.data?.unit) setTree([toNode(root.data.unit)]);
    } catch (e) {
      setOpError(e);
    } finally {
      setBusy(false);
    }
  };

  const found = (sub.data?.units ?? []).filter((x) => matchesWords(x.name, filter)).slice(0, 50);
  const quota = u?.staffingQuota ?? 0;
  return (
    <Page crumbs={[{ title: vi.menu.home, to: '/' }, { title: vi.units.title }]} title={vi.units.title}>
      <Row gutter={16}>
        <Col xs={24} lg={9}>
          <Card size="small">
            <Input.Search placeholder={vi.units.search} aria-label={vi.units.search} allowClear value={filter} onChange={(e) => setFilter(e.target.value)} style={{ marginBottom: 8 }} />
            {filter.trim().length > 1 ? (
              <Table size="small" rowKey="id" pagination={false} loading={sub.isLoading} dataSource={found} showHeader={false}
                columns={[{ dataIndex: 'name', render: (n: string, x: Unit) => <Link to={`/units/${x.id}`}>{n}</Link> }]} />
            ) : (
              <Tree treeData={tree} loadData={(n) => load(String(n.key))} selectedKeys={[selectedId]} onSelect={(k) => k[0] && nav(`/units/${String(k[0])}`)} />
            )}
          </Card>
        </Col>
        <Col xs={24} lg={15}>
          <ErrorBanner error={unit.error} />
          {u && (
            <Card size="small" title={u.name}>
              {s.rights.manageUnits && (
              <Space wrap style={{ marginBottom: 12 }}>
                <Button size="small" onClick={() => { form.resetFields(); setOp('create'); }}>{vi.units.create}</Button>
                <Button size="small" onClick={() => { form.setFieldsValue({ name: u.name, code: u.code, quota: u.staffingQuota }); setOp('rename'); }}>{vi.units.rename}</Button>
                {u.parentId && <Button size="small" onClick={() => { form.resetFields(); setOp('move'); }}>{vi.units.move}</Button>}
                {u.parentId && <Button size="small" danger onClick={() => { form.resetFields(); setOp('merge'); }}>{vi.units.merge}</Button>}
              </Space>)}
              <Descriptions size="small" bordered column={1} labelStyle={{ width: 260 }} items={[
                { key: 'code', label: vi.units.code, children: u.code },
                { key: 'type', label: vi.units.type, children: vi.unitTypes[u.type] },
                { key: 'level', label: vi.units.level, children: u.level },
                { key: 'status', label: vi.units.status, children: u.status === UnitStatus.DISSOLVED ? vi.units.dissolved : vi.units.active },
                { key: 'quota', label: vi.units.quota, children: numberText(quota) },
                { key: 'present', label: vi.units.present, children: present.data ? `${totalText(present.data)}${quota ? ` / ${numberText(quota)}` : ''}` : vi.common.none },
                { key: 'children', label: vi.units.children, children: u.childCount },
                { key: 'links', label: vi.common.details, children: <Space><Link to={`/records?unit=${u.id}`}>{vi.units.records}</Link>{s.rights.manageAccounts && <Link to={`/accounts?unit=${u.id}`}>{vi.units.accounts}</Link>}</Space> },
              ]} />
              <h4 style={{ marginTop: 16 }}>{vi.units.history}</h4>
              <Table size="small" rowKey={(_r, i) => String(i)} pagination={false} dataSource={history.data?.entries ?? []} columns={[
                { title: 'Thời điểm', dataIndex: 'at', width: 150, render: (v: string) => timeText(v) },
                { title: 'Thay đổi', dataIndex: 'action', render: (v: string) => vi.historyActions[v] ?? v },
                { title: vi.units.name, dataIndex: 'name' },
                { title: vi.common.reason, dataIndex: 'reason' },
              ]} />
            </Card>
          )}
        </Col>
      </Row>
      <Modal open={op !== null} title={op && { create: vi.units.create, rename: vi.units.rename, move: vi.units.move, merge: vi.units.merge }[op]} okText={vi.common.confirm}
        cancelText={vi.common.cancel} okButtonProps={{ danger: op === 'merge' }} confirmLoading={busy} onOk={() => void run()} onCancel={() => { setOp(null); setOpError(null); }} destroyOnClose>
        {op === 'merge' && <Alert type="warning" showIcon message={vi.units.mergeWarn} style={{ marginBottom: 12 }} />}
        {opError !== null && <Alert type="error" showIcon role="alert" message={errorText(opError)} style={{ marginBottom: 12 }} />}
        <Form form={form} layout="vertical" preserve={false}>
          {(op === 'create' || op === 'rename') && <>
            <Form.Item name="name" label={vi.units.name} rules={[{ required: true, message: vi.errors.required }]}><Input /></Form.Item>
            <Form.Item name="code" label={vi.units.code} rules={[{ required: true, message: vi.errors.required }]}><Input /></Form.Item>
            {op === 'create' && <Form.Item name="type" label={vi.units.type} rules={[{ required: true, message: vi.errors.required }]}><Select options={vi.unitTypes.slice(1).map((l, i) => ({ value: i + 1, label: l }))} /></Form.Item>}
            <Form.Item name="quota" label={vi.units.quota}><InputNumber min={0} style={{ width: '100%' }} /></Form.Item>
          </>}
          {op === 'move' && <Form.Item name="parent" label={vi.units.newParent} rules={[{ required: true, message: vi.errors.required }]}><UnitSelect rootId={rootId} /></Form.Item>}
          {op === 'merge' && <Form.Item name="target" label={vi.units.target} rules={[{ required: true, message: vi.errors.required }]}><UnitSelect rootId={rootId} /></Form.Item>}
          {op && op !== 'create' && <Form.Item name="reason" label={vi.units.decision} rules={op === 'rename' ? undefined : [{ required: true, message: vi.errors.required }]}><Input placeholder="Quyết định số 125/QĐ-UBND ngày 01/07/2025" /></Form.Item>}
        </Form>
      </Modal>
    </Page>
  );
}
