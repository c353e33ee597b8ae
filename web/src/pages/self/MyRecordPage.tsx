/* The individual's own record, read only (004 Đ12.2), and the change request form (phiếu bổ
 * sung lý lịch): the person edits a copy of the record, explains, and adds the papers that
 * prove it (sent once the request exists, tied to it); the unit verifies it. */
import { useQuery, useTransport } from '@connectrpc/connect-query';
import { createClient } from '@connectrpc/connect';
import { create } from '@bufbuild/protobuf';
import { PaperClipOutlined, UploadOutlined } from '@ant-design/icons';
import { Alert, Button, Card, Form, Input, List, Space, Tabs, Typography, Upload, App as AntApp } from 'antd';
import { useEffect, useMemo, useState } from 'react';
import { useNavigate } from 'react-router-dom';
import { errorText, fieldErrors } from '../../api/errors';
import { useInvalidate } from '../../api/hooks';
import { Records, RecordSchema, type Record as Rec } from '../../api/gen/records_pb';
import { ErrorBanner } from '../../components/ErrorBanner';
import { Page } from '../../components/Page';
import { vi } from '../../i18n/vi';
import { numberText } from '../../lib/format';
import { precheck, uploadPaper } from '../../lib/upload';
import { useSession } from '../../session';
import { DossierTabs, RecordHeader } from '../dossier/DossierPage';
import { SectionEdit } from '../dossier/fields';
import { sectionOf } from '../dossier/RecordEditPage';
import { SECTIONS } from '../dossier/schema';
import { ChangeRequestCard } from '../changes/ChangeRequestsPage';

export function MyRecordPage({ declare = false }: { declare?: boolean }) {
  const s = useSession();
  const recordId = s.account?.personRecordId ?? '';
  const q = useQuery(Records.method.getRecord, { recordId }, { enabled: !!recordId });
  const mine = useQuery(Records.method.listChangeRequests, { recordId, pageSize: 20 }, { enabled: !!recordId });
  const transport = useTransport();
  const client = useMemo(() => createClient(Records, transport), [transport]);
  const invalidate = useInvalidate();
  const nav = useNavigate();
  const { message } = AntApp.useApp();
  const [form] = Form.useForm();
  const [tab, setTab] = useState(SECTIONS[0].key);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const [papers, setPapers] = useState<File[]>([]);
  const [paperError, setPaperError] = useState<string | null>(null);
  const r = q.data?.record;

  useEffect(() => {
    if (r && declare) form.setFieldsValue(r);
  }, [r, declare, form]);

  if (!recordId) return <Page title={vi.menu.myRecord}><Alert type="warning" message={vi.dossier.noRecord} /></Page>;

  const send = async () => {
    if (!r) return;
    setError(null);
    const { note, ...v } = form.getFieldsValue(true) as Rec & { note?: string };
    setBusy(true);
    try {
      const made = await client.createChangeRequest({ proposed: create(RecordSchema, { ...r, ...v, id: r.id }), baseVersion: r.version, note: note ?? '', requestId: crypto.randomUUID() });
      const crId = made.changeRequest?.id ?? '';
      // the papers go with the request now that it exists; one that fails is added again later
      const failed: string[] = [];
      for (const f of papers) await uploadPaper(r.id, crId, f, () => undefined).catch(() => failed.push(f.name));
      if (failed.length) void message.warning(vi.crDocs.uploadFailed(failed.join(', ')), 8);
      void message.success(vi.cr.sent);
      await invalidate(Records);
      nav('/me');
    } catch (e) {
      const fe = fieldErrors(e, 'proposed');
      if (fe) {
        form.setFields(fe);
        const sec = sectionOf(fe[0].name);
        if (sec) setTab(sec);
      }
      setError(e);
    } finally {
      setBusy(false);
    }
  };

  if (declare)
    return (
      <Page crumbs={[{ title: vi.menu.myRecord, to: '/me' }, { title: vi.dossier.declare }]} title={vi.dossier.declare}
        extra={<Button type="primary" loading={busy} onClick={() => void send()}>{vi.cr.send}</Button>}>
        {error !== null && <Alert type="error" showIcon role="alert" message={errorText(error)} style={{ marginBottom: 12 }} />}
        <ErrorBanner error={q.error} />
        <Form form={form} layout="vertical" disabled={!r}>
          <Form.Item name="note" label={vi.cr.note} rules={[{ required: true, message: vi.errors.required }]}><Input.TextArea rows={2} /></Form.Item>
          <Card size="small" title={vi.crDocs.title} style={{ marginBottom: 12 }}>
            <Typography.Paragraph type="secondary">{vi.crDocs.hint}</Typography.Paragraph>
            <List size="small" dataSource={papers} locale={{ emptyText: vi.crDocs.none }} renderItem={(f) => (
              <List.Item actions={[<Button key="x" size="small" onClick={() => setPapers(papers.filter((p) => p !== f))}>{vi.calendar.remove}</Button>]}>
                <span><PaperClipOutlined /> {f.name} ({numberText(f.size)} byte)</span>
              </List.Item>)} />
            <Space direction="vertical">
              <Upload accept=".pdf,.jpg,.jpeg,.png,application/pdf,image/jpeg,image/png" multiple showUploadList={false}
                beforeUpload={(f) => { const bad = precheck(f); setPaperError(bad ? vi.dossier[bad] : null); if (!bad) setPapers((ps) => [...ps, f]); return false; }}>
                <Button icon={<UploadOutlined />}>{vi.crDocs.add}</Button>
              </Upload>
              {paperError && <Typography.Text type="danger" role="alert">{paperError}</Typography.Text>}
            </Space>
          </Card>
          <Tabs activeKey={tab} onChange={setTab} items={SECTIONS.map((sec) => ({ key: sec.key, label: <span title={sec.title}>{sec.tab}</span>, forceRender: true, children: <SectionEdit section={sec} /> }))} />
        </Form>
      </Page>
    );

  return (
    <Page crumbs={[{ title: vi.menu.home, to: '/' }, { title: vi.menu.myRecord }]} title={r?.fullName ?? vi.menu.myRecord}
      extra={<Button type="primary" onClick={() => nav('/me/declare')}>{vi.dossier.declare}</Button>}>
      <Alert type="info" showIcon message={vi.dossier.readOnly} style={{ marginBottom: 12 }} />
      <ErrorBanner error={q.error} />
      {r && <RecordHeader record={r} />}
      {r && <DossierTabs record={r} extra={[{ key: 'cr', label: vi.cr.mine, children: (mine.data?.changeRequests ?? []).map((c) => <ChangeRequestCard key={c.id} c={c} canAddPapers />) }]} />}
    </Page>
  );
}
