/* One person's dossier laid out like form 2C: sections as tabs, histories as dated tables,
 * the attachments and the versions timeline; "as of a date" shows the record as the system
 * held it then (read only). The workflow actions (submit, approve, reject with a reason, a
 * status change with its decision) are offered by role and state; the service decides. */
import { useQuery } from '@connectrpc/connect-query';
import { EditOutlined, PrinterOutlined, SendOutlined } from '@ant-design/icons';
import { Alert, Button, Form, Input, Modal, Select, Space, Tabs, Tag, App as AntApp } from 'antd';
import { useState, type FocusEvent, type ReactNode } from 'react';
import { Link, useNavigate, useParams, useSearchParams } from 'react-router-dom';
import { errorText } from '../../api/errors';
import { useInvalidate, useUnitName } from '../../api/hooks';
import { Records, RecordStatus, WorkflowState, type Record as Rec } from '../../api/gen/records_pb';
import { DateField } from '../../components/Pickers';
import { ErrorBanner } from '../../components/ErrorBanner';
import { Page } from '../../components/Page';
import { vi } from '../../i18n/vi';
import { dateText } from '../../lib/format';
import { useSession } from '../../session';
import { Attachments } from './Attachments';
import { SECTIONS } from './schema';
import { SectionView } from './view';
import { Versions } from './Versions';
import { RecordTransfers } from '../transfers/RecordTransfers';
import { createClient } from '@connectrpc/connect';
import { useTransport } from '@connectrpc/connect-query';

type Action = 'submit' | 'approve' | 'reject' | 'status' | null;

export function RecordHeader({ record }: { record: Rec }) {
  const unit = useUnitName(record.managingUnitId);
  return (
    <Space wrap style={{ marginBottom: 12 }}>
      <Tag color="blue">{vi.recordStatus[record.status]}</Tag>
      <Tag color={record.workflowState === WorkflowState.APPROVED ? 'green' : record.workflowState === WorkflowState.REJECTED ? 'red' : 'gold'}>{vi.workflow[record.workflowState]}</Tag>
      {!record.verified && record.workflowState === WorkflowState.APPROVED && <Tag color="orange">{vi.dossier.unverified}</Tag>}
      {unit && <span>{vi.dossier.managingUnit}: <b>{unit}</b></span>}
      <span>{vi.dossier.version} {String(record.version)}</span>
    </Space>
  );
}

/* The sections as tabs, usable by keyboard as the WAI-ARIA tabs pattern with automatic
 * activation: Tab reaches the selected tab, Left/Right (Home/End) move to another and select
 * it, Enter/Space select the focused one. Ant Design's Tabs (rc-tabs 15.7) moves the focus with
 * the arrows but selects only on Enter/Space, so a tab that takes the focus from the keyboard
 * is selected here (a click selects it anyway). */
export function DossierTabs({ record, extra }: { record: Rec; extra?: { key: string; label: ReactNode; children: ReactNode }[] }) {
  const items = [
    ...SECTIONS.map((s) => ({ key: s.key, label: s.title === s.tab ? s.tab : <span title={s.title}>{s.tab}</span>, children: <SectionView section={s} record={record} /> })),
    ...(extra ?? []),
  ];
  const [active, setActive] = useState(items[0].key);
  const onFocus = (e: FocusEvent<HTMLDivElement>) => {
    const t = e.target;
    /* only this list's own tabs, not those of a tab list inside a panel */
    if (t.getAttribute('role') !== 'tab' || !e.currentTarget.querySelector(':scope > .ant-tabs > .ant-tabs-nav')?.contains(t)) return;
    const key = t.closest<HTMLElement>('[data-node-key]')?.dataset.nodeKey;
    if (key && items.some((i) => i.key === key)) setActive(key);
  };
  return (
    <div onFocus={onFocus}>
      <Tabs
        tabBarGutter={20} /* every tab of the dossier fits at 1366 px, the transfers' too */
        activeKey={items.some((i) => i.key === active) ? active : items[0].key}
        onChange={setActive}
        items={items}
      />
    </div>
  );
}

export function DossierPage() {
  const { id = '' } = useParams();
  const [params, setParams] = useSearchParams();
  const asOf = params.get('asOf') ?? '';
  const s = useSession();
  const nav = useNavigate();
  const q = useQuery(Records.method.getRecord, { recordId: id, asOf });
  const invalidate = useInvalidate();
  const transport = useTransport();
  const { message } = AntApp.useApp();
  const [action, setAction] = useState<Action>(null);
  const [busy, setBusy] = useState(false);
  const [actError, setActError] = useState<unknown>(null);
  const [form] = Form.useForm();
  const r = q.data?.record;

  const run = async () => {
    if (!r) return;
    // a field left wrong is shown on that field by the form itself: nothing to send
    const v = (await form.validateFields().catch(() => null)) as Record<string, string> | null;
    if (!v) return;
    const client = createClient(Records, transport);
    setBusy(true);
    setActError(null);
    try {
      const ev = r.version;
      if (action === 'submit') await client.submitRecord({ recordId: r.id, expectedVersion: ev });
      if (action === 'approve') await client.approveRecord({ recordId: r.id, expectedVersion: ev, note: v.note ?? '' });
      if (action === 'reject') await client.rejectRecord({ recordId: r.id, expectedVersion: ev, reason: v.reason });
      if (action === 'status')
        await client.changeRecordStatus({ recordId: r.id, expectedVersion: ev, status: Number(v.status), requestId: crypto.randomUUID(),
          decision: { number: v.number, date: v.date, effectiveDate: v.effectiveDate, issuer: v.issuer ?? '' } });
      void message.success({ submit: vi.dossier.submitted, approve: vi.dossier.approved, reject: vi.dossier.rejected, status: vi.dossier.statusChanged }[action ?? 'submit']);
      setAction(null);
      form.resetFields();
      await invalidate(Records);
    } catch (e) {
      setActError(e);
    } finally {
      setBusy(false);
    }
  };

  const wf = r?.workflowState;
  const editable = !asOf && s.rights.update && wf !== WorkflowState.SUBMITTED;
  const canSubmit = !asOf && s.rights.update && (wf === WorkflowState.DRAFT || wf === WorkflowState.REJECTED);
  const canApprove = !asOf && s.rights.approve && (wf === WorkflowState.SUBMITTED || (wf === WorkflowState.APPROVED && r && !r.verified));
  const title = r ? r.fullName : vi.common.loading;

  return (
    <Page
      crumbs={[{ title: vi.menu.home, to: '/' }, { title: vi.records.title, to: '/records' }, { title }]}
      title={<>{title} {r && <small style={{ fontWeight: 400, fontSize: 14 }}>({dateText(r.birthDate)})</small>}</>}
      extra={r && (
        <Space wrap className="hoso-noprint">
          {editable && <Button type="primary" icon={<EditOutlined />} onClick={() => nav(`/records/${r.id}/edit`)}>{vi.dossier.edit}</Button>}
          {canSubmit && <Button onClick={() => setAction('submit')}>{vi.dossier.submit}</Button>}
          {canApprove && <Button type="primary" onClick={() => setAction('approve')}>{vi.dossier.approve}</Button>}
          {canApprove && <Button danger onClick={() => setAction('reject')}>{vi.dossier.reject}</Button>}
          {editable && <Button onClick={() => setAction('status')}>{vi.dossier.statusChange}</Button>}
          {editable && r.status === RecordStatus.ACTIVE && <Button icon={<SendOutlined />} onClick={() => nav(`/transfers/new?record=${r.id}`)}>{vi.tr.start}</Button>}
          <Link to={`/records/${r.id}/print`}><Button icon={<PrinterOutlined />}>{vi.dossier.print}</Button></Link>
          <span>{vi.dossier.asOf}:</span>
          <div style={{ width: 150 }}><DateField aria-label={vi.dossier.asOf} value={asOf} onChange={(d) => setParams(d ? { asOf: d } : {})} /></div>
        </Space>
      )}
    >
      <ErrorBanner error={q.error} />
      {asOf && <Alert type="info" showIcon style={{ marginBottom: 12 }} message={vi.dossier.asOfBanner(dateText(asOf))} action={<Button size="small" onClick={() => setParams({})}>{vi.dossier.asOfNow}</Button>} />}
      {r && <RecordHeader record={r} />}
      {r && (
        <DossierTabs record={r} extra={[
          { key: 'attachments', label: vi.dossier.attachments, children: <Attachments recordId={r.id} canUpload={!asOf && s.rights.update} /> },
          { key: 'versions', label: <span title={vi.dossier.versions}>{vi.dossier.versionsTab}</span>, children: <Versions recordId={r.id} onAsOf={(d) => setParams({ asOf: d })} /> },
          ...(s.rights.read ? [{ key: 'transfers', label: vi.menu.transfers, children: <RecordTransfers recordId={r.id} /> }] : []),
        ]} />
      )}
      <Modal open={action !== null} title={action && { submit: vi.dossier.submit, approve: vi.dossier.approve, reject: vi.dossier.reject, status: vi.dossier.statusChange }[action]}
        okText={vi.common.confirm} cancelText={vi.common.cancel} confirmLoading={busy} onOk={() => void run()} onCancel={() => { setAction(null); setActError(null); }} destroyOnClose>
        {actError !== null && <Alert type="error" showIcon role="alert" message={errorText(actError)} style={{ marginBottom: 12 }} />}
        <Form form={form} layout="vertical" preserve={false}>
          {action === 'approve' && <Form.Item name="note" label={vi.common.note}><Input.TextArea rows={2} /></Form.Item>}
          {action === 'reject' && <Form.Item name="reason" label={vi.dossier.rejectReason} rules={[{ required: true, whitespace: true, message: vi.errors.required }]}><Input.TextArea rows={3} /></Form.Item>}
          {action === 'status' && (
            <>
              <Form.Item name="status" label={vi.dossier.newStatus} rules={[{ required: true, message: vi.errors.required }]}>
                <Select options={[RecordStatus.RETIRED, RecordStatus.RESIGNED, RecordStatus.DECEASED, RecordStatus.ACTIVE].map((x) => ({ value: x, label: vi.recordStatus[x] }))} />
              </Form.Item>
              <Form.Item name="number" label={vi.common.decisionNumber} rules={[{ required: true, message: vi.errors.required }]}><Input placeholder="125/QĐ-UBND" /></Form.Item>
              <Form.Item name="date" label={vi.common.decisionDate} rules={[{ required: true, message: vi.errors.required }]}><DateField /></Form.Item>
              <Form.Item name="effectiveDate" label={vi.common.effectiveDate} rules={[{ required: true, message: vi.errors.required }]}><DateField /></Form.Item>
              <Form.Item name="issuer" label={vi.common.issuer}><Input /></Form.Item>
            </>
          )}
        </Form>
      </Modal>
    </Page>
  );
}
