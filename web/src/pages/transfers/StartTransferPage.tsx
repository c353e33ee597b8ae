/* Opening a transfer (000 Đ9, 001 Đ10, 004 Đ9) by the managing unit: the person, the kind, the
 * receiving unit chosen by name anywhere in the deployment, the decision and its scan (sent
 * with the call, 001 Đ10.2), the destination out of the system or the secondment's last day.
 * Nothing moves until it is sent, on the transfer's own page. Also the pull (002 Đ10): a unit
 * asks for a record managed elsewhere, with the scan of its letter. */
import { useTransport } from '@connectrpc/connect-query';
import { createClient } from '@connectrpc/connect';
import { Alert, Button, Card, Col, Form, Input, Radio, Row, Space, Typography, App as AntApp } from 'antd';
import { useMemo, useState } from 'react';
import { useNavigate, useSearchParams } from 'react-router-dom';
import { errorText, fieldErrors } from '../../api/errors';
import { useInvalidate } from '../../api/hooks';
import { TransferKind, Transfers } from '../../api/gen/transfers_pb';
import { Page } from '../../components/Page';
import { DateField, RecordSelect, UnitDirectorySelect, UnitSelect } from '../../components/Pickers';
import { ScanField } from '../../components/ScanField';
import { vi } from '../../i18n/vi';
import { readScan } from '../../lib/upload';
import { useSession } from '../../session';

/* Named as the request's fields, so a refusal naming one ("decision.effective_date: …")
 * lands on it. */
interface StartValues {
  recordId: string;
  kind: TransferKind;
  toUnitId?: string;
  finalUnitId?: string;
  decision: { number: string; date: string; effectiveDate: string; issuer?: string };
  decisionScan?: File;
  destination?: string;
  endDate?: string;
  note?: string;
}

const KINDS = [TransferKind.BETWEEN_UNITS, TransferKind.INTERNAL, TransferKind.SECONDMENT, TransferKind.OUT_OF_SYSTEM];

export function StartTransferPage() {
  const [params] = useSearchParams();
  const nav = useNavigate();
  const transport = useTransport();
  const client = useMemo(() => createClient(Transfers, transport), [transport]);
  const invalidate = useInvalidate();
  const { message } = AntApp.useApp();
  const [form] = Form.useForm();
  const kind = (Form.useWatch('kind', form) as TransferKind | undefined) ?? TransferKind.BETWEEN_UNITS;
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);

  const save = async () => {
    const v = (await form.validateFields().catch(() => null)) as StartValues | null;
    if (!v) return;
    setBusy(true);
    setError(null);
    try {
      const r = await client.startTransfer({
        recordId: v.recordId, kind: v.kind, toUnitId: v.kind === TransferKind.OUT_OF_SYSTEM ? '' : v.toUnitId ?? '',
        finalUnitId: v.kind === TransferKind.BETWEEN_UNITS ? v.finalUnitId ?? '' : '',
        decision: { ...v.decision, number: v.decision.number.normalize('NFC'), issuer: (v.decision.issuer ?? '').normalize('NFC') },
        decisionScan: v.decisionScan ? await readScan(v.decisionScan) : undefined,
        destination: (v.destination ?? '').normalize('NFC'), endDate: v.endDate ?? '', note: (v.note ?? '').normalize('NFC'), requestId: crypto.randomUUID(),
      });
      void message.success(vi.tr.started);
      await invalidate(Transfers);
      nav(`/transfers/${r.transfer?.id ?? ''}`);
    } catch (e) {
      // "decision_scan.content: …" is about the file chosen as decisionScan
      const fe = fieldErrors(e, '')?.map((f) => (f.name[0] === 'decisionScan' ? { ...f, name: ['decisionScan'] } : f));
      if (fe) form.setFields(fe);
      setError(e);
    } finally {
      setBusy(false);
    }
  };

  return (
    <Page crumbs={[{ title: vi.menu.home, to: '/' }, { title: vi.tr.title, to: '/transfers' }, { title: vi.tr.start }]} title={vi.tr.start}
      extra={<Space><Button onClick={() => nav('/transfers')}>{vi.common.cancel}</Button><Button type="primary" loading={busy} onClick={() => void save()}>{vi.common.save}</Button></Space>}>
      {error !== null && <Alert type="error" showIcon role="alert" message={errorText(error)} style={{ marginBottom: 12 }} />}
      <Form form={form} layout="vertical" initialValues={{ kind: TransferKind.BETWEEN_UNITS, recordId: params.get('record') ?? '' }}>
        <Card size="small" style={{ marginBottom: 12 }}>
          <Row gutter={16}>
            <Col xs={24} lg={12}><Form.Item name="recordId" label={vi.tr.pickRecord} rules={[{ required: true, message: vi.errors.required }]}><RecordSelect /></Form.Item></Col>
            <Col xs={24} lg={12}>
              <Form.Item name="kind" label={vi.tr.kind} extra={<Typography.Text type="secondary">{vi.tr.kindHelp}</Typography.Text>}>
                <Radio.Group options={KINDS.map((k) => ({ value: k, label: vi.trKind[k] }))} />
              </Form.Item>
            </Col>
            {kind !== TransferKind.OUT_OF_SYSTEM && (
              <Col xs={24} lg={12}><Form.Item name="toUnitId" label={vi.tr.to} rules={[{ required: true, message: vi.errors.required }]}><UnitDirectorySelect placeholder={vi.tr.pickUnit} /></Form.Item></Col>
            )}
            {kind === TransferKind.BETWEEN_UNITS && (
              <Col xs={24} lg={12}><Form.Item name="finalUnitId" label={`${vi.tr.final} — không bắt buộc`}><UnitDirectorySelect placeholder={vi.tr.pickUnit} /></Form.Item></Col>
            )}
            {kind === TransferKind.OUT_OF_SYSTEM && (
              <Col xs={24} lg={12}><Form.Item name="destination" label={vi.tr.destination} rules={[{ required: true, whitespace: true, message: vi.errors.required }]}><Input placeholder="Tỉnh ủy Bắc Giang" /></Form.Item></Col>
            )}
            {kind === TransferKind.SECONDMENT && (
              <Col xs={24} lg={6}><Form.Item name="endDate" label={vi.tr.endDate} rules={[{ required: true, message: vi.errors.required }]}><DateField /></Form.Item></Col>
            )}
          </Row>
        </Card>
        <Card size="small" title={vi.tr.decision}>
          <Row gutter={16}>
            <Col xs={24} md={6}><Form.Item name={['decision', 'number']} label={vi.common.decisionNumber} rules={[{ required: true, whitespace: true, message: vi.errors.required }]}><Input placeholder="125/QĐ-UBND" /></Form.Item></Col>
            <Col xs={12} md={5}><Form.Item name={['decision', 'date']} label={vi.common.decisionDate} rules={[{ required: true, message: vi.errors.required }]}><DateField /></Form.Item></Col>
            <Col xs={12} md={5}><Form.Item name={['decision', 'effectiveDate']} label={vi.common.effectiveDate} rules={[{ required: true, message: vi.errors.required }]}><DateField /></Form.Item></Col>
            <Col xs={24} md={8}><Form.Item name={['decision', 'issuer']} label={vi.common.issuer}><Input placeholder="Ủy ban nhân dân tỉnh Bắc Giang" /></Form.Item></Col>
            <Col xs={24} md={12}><Form.Item name="decisionScan" label={vi.tr.scan}><ScanField /></Form.Item></Col>
            <Col xs={24} md={12}><Form.Item name="note" label={vi.tr.note}><Input.TextArea rows={2} /></Form.Item></Col>
          </Row>
        </Card>
      </Form>
    </Page>
  );
}

interface RequestValues {
  recordId: string;
  toUnitId: string;
  finalUnitId?: string;
  letter?: File;
  note?: string;
}

export function RequestTransferPage() {
  const s = useSession();
  const nav = useNavigate();
  const transport = useTransport();
  const invalidate = useInvalidate();
  const { message } = AntApp.useApp();
  const [form] = Form.useForm<RequestValues>();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);

  const save = async () => {
    const v = await form.validateFields().catch(() => null);
    if (!v || !v.letter) return;
    setBusy(true);
    setError(null);
    try {
      const r = await createClient(Transfers, transport).requestTransfer({
        recordId: v.recordId.trim(), toUnitId: v.toUnitId, finalUnitId: v.finalUnitId ?? '', requestLetter: await readScan(v.letter),
        note: (v.note ?? '').normalize('NFC'), requestId: crypto.randomUUID(),
      });
      void message.success(vi.tr.requested);
      await invalidate(Transfers);
      nav(`/transfers/${r.transfer?.id ?? ''}`);
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };

  return (
    <Page crumbs={[{ title: vi.menu.home, to: '/' }, { title: vi.tr.title, to: '/transfers' }, { title: vi.tr.request }]} title={vi.tr.request}
      extra={<Space><Button onClick={() => nav('/transfers')}>{vi.common.cancel}</Button><Button type="primary" loading={busy} onClick={() => void save()}>{vi.common.save}</Button></Space>}>
      {error !== null && <Alert type="error" showIcon role="alert" message={errorText(error)} style={{ marginBottom: 12 }} />}
      <Card size="small">
        <Form form={form} layout="vertical" initialValues={{ toUnitId: s.account?.unitId ?? '' }} style={{ maxWidth: 720 }}>
          <Form.Item name="recordId" label={vi.tr.recordId} rules={[{ required: true, whitespace: true, message: vi.errors.required }, { pattern: /^\s*\d+\s*$/, message: 'Mã hồ sơ là một dãy số' }]}><Input inputMode="numeric" /></Form.Item>
          <Form.Item name="toUnitId" label={vi.tr.toMe} rules={[{ required: true, message: vi.errors.required }]}><UnitSelect /></Form.Item>
          <Form.Item name="finalUnitId" label={`${vi.tr.final} — không bắt buộc`}><UnitDirectorySelect placeholder={vi.tr.pickUnit} /></Form.Item>
          <Form.Item name="letter" label={vi.tr.letter} rules={[{ required: true, message: vi.errors.required }]}><ScanField aria-label={vi.tr.letter} /></Form.Item>
          <Form.Item name="note" label={vi.tr.note}><Input.TextArea rows={2} /></Form.Item>
        </Form>
      </Card>
    </Page>
  );
}
