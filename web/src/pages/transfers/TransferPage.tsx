/* One transfer: who sends whom where on what decision, its documents (previewed in the page),
 * every step with who did it, when, why, and the open one's due date and working days left;
 * the actions the viewer's side may take in its state (send, receive, reject with a reason,
 * forward, cancel, answer a pull, export the package), each confirmed, the service deciding.
 * While records has not made the move yet the page says so and looks again. */
import { useQuery, useTransport } from '@connectrpc/connect-query';
import { createClient } from '@connectrpc/connect';
import { DownloadOutlined, EyeOutlined } from '@ant-design/icons';
import { Alert, Button, Card, Descriptions, Form, Input, Modal, Space, Table, Typography, App as AntApp } from 'antd';
import { useMemo, useState } from 'react';
import { Link, useParams } from 'react-router-dom';
import { useInvalidate, useUnitNames } from '../../api/hooks';
import { Identity } from '../../api/gen/identity_pb';
import { Records } from '../../api/gen/records_pb';
import { TransferKind, TransferState, Transfers, type Document, type Step, type Transfer } from '../../api/gen/transfers_pb';
import { ErrorBanner } from '../../components/ErrorBanner';
import { Page } from '../../components/Page';
import { DateField, UnitDirectorySelect } from '../../components/Pickers';
import { ScanField } from '../../components/ScanField';
import { vi } from '../../i18n/vi';
import { dateText, numberText, timeText } from '../../lib/format';
import { actionsFor, isOpen, needsReason, type Side, type TrAction } from '../../lib/transfers';
import { exportPackage, fileErrorText, isCancelled, saveFile } from '../../lib/streams';
import { DownloadProgress, useDownload } from '../../components/DownloadProgress';
import { readScan, transferDocumentUrl } from '../../lib/upload';
import { useSession } from '../../session';
import { DaysLeft, DecisionText, StateTag } from './parts';

const ACTION_LABEL: Record<TrAction, string> = {
  approve: vi.tr.approve, refuse: vi.tr.refuse, send: vi.tr.send, receive: vi.tr.receive, reject: vi.tr.reject, forward: vi.tr.forward,
  cancel: vi.tr.cancel, export: vi.tr.exportPkg,
};
const ACTION_DONE: Record<TrAction, string> = {
  approve: vi.tr.approved, refuse: vi.tr.refused, send: vi.tr.sent, receive: vi.tr.received, reject: vi.tr.rejected, forward: vi.tr.forwarded,
  cancel: vi.tr.cancelled, export: vi.tr.exported,
};
const DOC_KIND: Record<string, string> = { DECISION: vi.tr.decision, REQUEST_LETTER: 'Văn bản đề nghị' };

/* The sides of a transfer the viewer stands on: the units of it the viewer's scope reaches
 * (identity answers GetUnit only within it). */
function useSides(t: Transfer | undefined): Set<Side> {
  const opt = { retry: false, staleTime: 300_000 } as const;
  const from = useQuery(Identity.method.getUnit, { unitId: t?.fromUnitId ?? '' }, { ...opt, enabled: !!t?.fromUnitId });
  const to = useQuery(Identity.method.getUnit, { unitId: t?.toUnitId ?? '' }, { ...opt, enabled: !!t?.toUnitId });
  const fin = useQuery(Identity.method.getUnit, { unitId: t?.finalUnitId ?? '' }, { ...opt, enabled: !!t?.finalUnitId });
  return useMemo(() => {
    const s = new Set<Side>();
    if (from.data) s.add('from');
    if (to.data) s.add('to');
    if (fin.data) s.add('final');
    return s;
  }, [from.data, to.data, fin.data]);
}

export function TransferPage() {
  const { id = '' } = useParams();
  const s = useSession();
  const transport = useTransport();
  const client = useMemo(() => createClient(Transfers, transport), [transport]);
  const invalidate = useInvalidate();
  const { message } = AntApp.useApp();
  const q = useQuery(Transfers.method.getTransfer, { transferId: id }, {
    // records makes the move a moment after the action: look again until it has
    refetchInterval: (query) => (query.state.data?.transfer && !query.state.data.transfer.delivered ? 1500 : false),
  });
  const t = q.data?.transfer;
  const sides = useSides(t);
  const names = useUnitNames(t ? [t.fromUnitId, t.toUnitId, t.finalUnitId, ...t.steps.map((x) => x.unitId)] : []);
  const [action, setAction] = useState<TrAction | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [preview, setPreview] = useState<Document | null>(null);
  const dl = useDownload();
  // the package's bytes of its known length (Content-Length), in the shared progress bar
  const pkg = (id: string, requestId: string) => dl.run((signal, progress) => exportPackage(id, requestId,
    (done, total) => progress({ done, total, text: vi.files.received(numberText(done), total === null ? null : numberText(total)) }), signal));
  const [form] = Form.useForm();

  const actions = t && s.rights.update ? actionsFor(t.kind, t.state, sides) : [];
  const unit = (uid: string) => (uid ? names.get(uid) ?? uid : '');
  const needsScan = (a: TrAction) => !!t && ((a === 'send' && (t.kind === TransferKind.BETWEEN_UNITS || t.kind === TransferKind.PULL) && !t.decision?.scanDocumentId) || a === 'approve');

  const run = async () => {
    if (!t || !action) return;
    const v = (await form.validateFields().catch(() => null)) as Record<string, unknown> | null;
    if (!v) return;
    setBusy(true);
    setError(null);
    const base = { transferId: t.id, expectedVersion: t.version, requestId: crypto.randomUUID() };
    const note = String(v.note ?? '').normalize('NFC');
    const reason = String(v.reason ?? '').normalize('NFC');
    const scan = v.scan instanceof File ? await readScan(v.scan) : undefined;
    try {
      switch (action) {
        case 'send': await client.sendTransfer({ ...base, note, decisionScan: scan }); break;
        case 'receive': await client.receiveTransfer({ ...base, note }); break;
        case 'reject': await client.rejectTransfer({ ...base, reason }); break;
        case 'forward': await client.forwardTransfer({ ...base, note, finalUnitId: String(v.finalUnitId ?? '') }); break;
        case 'cancel': await client.cancelTransfer({ ...base, reason }); break;
        case 'refuse': await client.refuseRequest({ ...base, reason }); break;
        case 'approve':
          await client.approveRequest({ ...base, note, decisionScan: scan,
            decision: { number: String(v.number).normalize('NFC'), date: String(v.date), effectiveDate: String(v.effectiveDate), issuer: String(v.issuer ?? '').normalize('NFC') } });
          break;
        case 'export': saveFile(await pkg(t.id, base.requestId)); break;
      }
      void message.success(ACTION_DONE[action]);
      setAction(null);
      await invalidate(Transfers, Records);
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };

  const again = async () => {
    if (!t) return;
    try {
      saveFile(await pkg(t.id, crypto.randomUUID()));
      void message.success(vi.tr.downloaded);
    } catch (e) {
      if (isCancelled(e)) void message.info(vi.files.cancelled);
      else void message.error(fileErrorText(e, vi.files.packageTooLarge));
    }
  };

  const open = (a: TrAction) => {
    setError(null);
    form.resetFields();
    if (a === 'forward' && t) form.setFieldsValue({ finalUnitId: t.finalUnitId });
    setAction(a);
  };

  const title = t ? `${t.recordName || t.recordId}` : vi.common.loading;
  const label = (a: TrAction) => (a === 'cancel' && t?.state === TransferState.SECONDED ? vi.tr.endEarly : a === 'cancel' && t?.state === TransferState.REQUESTED ? vi.tr.withdraw : ACTION_LABEL[a]);
  return (
    <Page crumbs={[{ title: vi.menu.home, to: '/' }, { title: vi.tr.title, to: '/transfers' }, { title }]}
      title={<>{title} {t && <StateTag state={t.state} />}</>}
      extra={t && (
        <Space wrap>
          {actions.map((a) => (
            <Button key={a} type={a === 'send' || a === 'receive' || a === 'approve' || a === 'export' ? 'primary' : 'default'} danger={needsReason(a)} onClick={() => open(a)}>{label(a)}</Button>
          ))}
          {t.state === TransferState.EXPORTED && s.rights.update && sides.has('from') && <Button icon={<DownloadOutlined />} onClick={() => void again()}>{vi.tr.exportPkg}</Button>}
        </Space>
      )}>
      <ErrorBanner error={q.error} />
      {action === null && <DownloadProgress state={dl.state} onCancel={dl.cancel} label={vi.tr.exportPkg} waiting={vi.tr.exportPkg} />}
      {t && !t.delivered && !t.deliveryError && <Alert type="info" showIcon message={vi.tr.delivering} style={{ marginBottom: 12 }} />}
      {t?.deliveryError && <Alert type="error" showIcon role="alert" message={vi.tr.deliveryError} description={t.deliveryError} style={{ marginBottom: 12 }} />}
      {t && (
        <>
          <Descriptions bordered size="small" column={{ xs: 1, md: 2 }} style={{ marginBottom: 16 }} items={[
            { key: 'rec', label: vi.tr.person, children: <Link to={`/records/${t.recordId}`}>{t.recordName || t.recordId}</Link> },
            { key: 'kind', label: vi.tr.kind, children: vi.trKind[t.kind] },
            { key: 'from', label: vi.tr.from, children: unit(t.fromUnitId) },
            { key: 'to', label: t.kind === TransferKind.OUT_OF_SYSTEM ? vi.tr.destination : vi.tr.to, children: t.toUnitId ? unit(t.toUnitId) : t.destination },
            ...(t.finalUnitId ? [{ key: 'final', label: vi.tr.final, children: unit(t.finalUnitId) }] : []),
            ...(t.kind === TransferKind.SECONDMENT ? [{ key: 'sec', label: 'Thời gian biệt phái', children: `${dateText(t.startDate)} – ${dateText(t.endDate)}` }] : []),
            { key: 'dec', label: vi.tr.decision, children: <DecisionText d={t.decision} />, span: 2 },
            ...(isOpen(t.state) ? [{ key: 'due', label: vi.tr.due, children: <DaysLeft dueDate={t.dueDate} left={t.workingDaysLeft} overdue={t.overdue} /> }] : []),
            ...(t.note ? [{ key: 'note', label: vi.tr.note, children: t.note }] : []),
            ...(t.packageSha256 ? [{ key: 'sha', label: vi.tr.packageSum, children: <Typography.Text code copyable>{t.packageSha256}</Typography.Text>, span: 2 }] : []),
            ...(t.newRecordId ? [{ key: 'new', label: vi.tr.newRecord, children: <Link to={`/records/${t.newRecordId}`}>{t.newRecordId}</Link> }] : []),
          ]} />
          <Card size="small" title={vi.tr.documents} style={{ marginBottom: 16 }}>
            <Table<Document> rowKey="id" size="small" pagination={false} dataSource={t.documents} locale={{ emptyText: vi.common.empty }}
              columns={[
                { title: 'Loại', dataIndex: 'kind', width: 150, render: (k: string) => DOC_KIND[k] ?? k },
                { title: 'Tên tệp', dataIndex: 'fileName' },
                { title: 'Dung lượng', dataIndex: 'size', width: 130, render: (n: bigint) => `${numberText(n)} byte` },
                { title: 'Ngày tải lên', dataIndex: 'uploadedAt', width: 150, render: (v: string) => timeText(v) },
                { title: vi.common.actions, key: 'a', width: 190, render: (_: unknown, d) => (
                  <Space>
                    <Button size="small" icon={<EyeOutlined />} onClick={() => setPreview(d)}>{vi.dossier.preview}</Button>
                    <Button size="small" icon={<DownloadOutlined />} href={transferDocumentUrl(t.id, d.id, false)}>{vi.common.download}</Button>
                  </Space>) },
              ]} />
          </Card>
          <Card size="small" title={vi.tr.steps}>
            <Table<Step> rowKey={(_x, i) => String(i)} size="small" pagination={false} dataSource={t.steps} scroll={{ x: 900 }}
              columns={[
                { title: vi.deadlines.step, dataIndex: 'kind', render: (k: number) => vi.stepKind[k] },
                { title: vi.tr.stepUnit, dataIndex: 'unitId', render: (u: string) => unit(u) },
                { title: vi.tr.opened, dataIndex: 'openedAt', width: 140, render: (v: string) => timeText(v) },
                { title: vi.tr.due, key: 'due', width: 240, render: (_: unknown, x) => (x.doneAt ? (x.dueDate ? dateText(x.dueDate) : vi.common.none)
                  : <DaysLeft dueDate={x.dueDate} left={t.workingDaysLeft} overdue={t.overdue} estimated={x.dueEstimated} />) },
                { title: vi.tr.doneAt, dataIndex: 'doneAt', width: 140, render: (v: string) => (v ? timeText(v) : <Typography.Text type="secondary">{vi.tr.open}</Typography.Text>) },
                { title: vi.tr.doneBy, key: 'by', render: (_: unknown, x) => x.doneByName || x.doneBy },
                { title: vi.tr.outcome, dataIndex: 'outcome', render: (o: string) => vi.outcome[o] ?? o },
                { title: vi.tr.reason, dataIndex: 'reason' },
              ]} />
          </Card>
        </>
      )}
      <Modal open={action !== null} title={action && label(action)} okText={vi.common.confirm} cancelText={vi.common.cancel} confirmLoading={busy}
        okButtonProps={{ danger: !!action && needsReason(action) }} onOk={() => void run()} onCancel={() => setAction(null)} destroyOnClose>
        {action === 'send' && <Alert type="info" showIcon message={vi.tr.sendHint} style={{ marginBottom: 12 }} />}
        {action === 'receive' && <Alert type="info" showIcon message={vi.tr.receiveHint} style={{ marginBottom: 12 }} />}
        {error !== null && <Alert type="error" showIcon role="alert" message={fileErrorText(error, vi.files.packageTooLarge)} style={{ marginBottom: 12 }} />}
        {action === 'export' && <DownloadProgress state={dl.state} onCancel={dl.cancel} label={vi.tr.exportPkg} waiting={vi.tr.exportPkg} />}
        <Form form={form} layout="vertical" preserve={false}>
          {action === 'approve' && <>
            <Form.Item name="number" label={vi.common.decisionNumber} rules={[{ required: true, whitespace: true, message: vi.errors.required }]}><Input placeholder="125/QĐ-UBND" /></Form.Item>
            <Form.Item name="date" label={vi.common.decisionDate} rules={[{ required: true, message: vi.errors.required }]}><DateField /></Form.Item>
            <Form.Item name="effectiveDate" label={vi.common.effectiveDate} rules={[{ required: true, message: vi.errors.required }]}><DateField /></Form.Item>
            <Form.Item name="issuer" label={vi.common.issuer}><Input /></Form.Item>
          </>}
          {action && needsScan(action) && (
            <Form.Item name="scan" label={vi.tr.scan} rules={[{ required: action === 'send', message: vi.errors.required }]}><ScanField /></Form.Item>
          )}
          {action === 'forward' && <Form.Item name="finalUnitId" label={vi.tr.final} rules={[{ required: true, message: vi.errors.required }]}><UnitDirectorySelect placeholder={vi.tr.pickUnit} /></Form.Item>}
          {action && needsReason(action) && (
            <Form.Item name="reason" label={vi.tr.reasonRequired} rules={[{ required: true, whitespace: true, message: vi.errors.required }]}><Input.TextArea rows={3} /></Form.Item>
          )}
          {action && !needsReason(action) && action !== 'export' && <Form.Item name="note" label={vi.tr.note}><Input.TextArea rows={2} /></Form.Item>}
        </Form>
      </Modal>
      <Modal open={!!preview} title={preview?.fileName} width={960} footer={null} onCancel={() => setPreview(null)} destroyOnClose>
        {preview && t && (preview.contentType === 'application/pdf'
          ? <iframe className="hoso-preview" title={preview.fileName} src={transferDocumentUrl(t.id, preview.id, true)} />
          : <img className="hoso-preview-img" alt={preview.fileName} src={transferDocumentUrl(t.id, preview.id, true)} />)}
      </Modal>
    </Page>
  );
}
