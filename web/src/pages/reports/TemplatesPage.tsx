/* Report templates (biểu mẫu): the forms the service fills, as data (docs/REPORT_TEMPLATES.md).
 * Everyone who reads reports sees them and their earlier versions; the system administrator
 * adds one or saves a new version (UpsertReportTemplate with the version it read, so an edit
 * made meanwhile is refused, not overwritten). */
import { useQuery, useTransport } from '@connectrpc/connect-query';
import { createClient } from '@connectrpc/connect';
import { PlusOutlined } from '@ant-design/icons';
import { Alert, Button, Form, Input, Modal, Select, Table, Tag, App as AntApp } from 'antd';
import { useEffect, useMemo, useState } from 'react';
import { errorText } from '../../api/errors';
import { useAccountNames, useInvalidate } from '../../api/hooks';
import { Reporting, type ReportTemplate } from '../../api/gen/reporting_pb';
import { ErrorBanner } from '../../components/ErrorBanner';
import { Page } from '../../components/Page';
import { vi } from '../../i18n/vi';
import { numberText, timeText } from '../../lib/format';
import { jsonProblem } from '../../lib/reports';
import { useSession } from '../../session';

interface Edit {
  code: string;
  name: string;
  definition: string;
}

/* One template: its current version editable (for the administrator), earlier ones to read. */
function TemplateModal({ code, adding, onClose }: { code: string; adding: boolean; onClose: () => void }) {
  const s = useSession();
  const [version, setVersion] = useState(0n); // 0: the current one
  const cur = useQuery(Reporting.method.getReportTemplate, { code, version: 0n }, { enabled: !adding && !!code });
  const old = useQuery(Reporting.method.getReportTemplate, { code, version }, { enabled: !adding && !!code && version !== 0n });
  const q = version === 0n ? cur : old;
  const t = q.data?.template;
  const latest = cur.data?.template?.version ?? 0n;
  const [form] = Form.useForm<Edit>();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const transport = useTransport();
  const invalidate = useInvalidate();
  const { message } = AntApp.useApp();
  const current = version === 0n;
  const names = useAccountNames(t ? [t.updatedBy] : []);
  const editable = s.rights.manageUnits && (adding || current);

  useEffect(() => {
    if (t) form.setFieldsValue({ code: t.code, name: t.name, definition: prettyJson(t.definition) });
  }, [t, form]);

  const save = async (v: Edit) => {
    setBusy(true);
    setError(null);
    try {
      const r = await createClient(Reporting, transport).upsertReportTemplate({
        template: { code: v.code.trim(), name: v.name.normalize('NFC').trim(), definition: v.definition },
        expectedVersion: adding ? 0n : t?.version ?? 0n, requestId: crypto.randomUUID(),
      });
      void message.success(vi.tpl.saved(numberText(r.template?.version ?? 0n)));
      await invalidate(Reporting);
      onClose();
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };

  const versions = Array.from({ length: Number(latest) }, (_, i) => latest - BigInt(i)); // newest first
  return (
    <Modal open title={adding ? vi.tpl.add : `${code} — ${t?.name ?? ''}`} width={900} onCancel={onClose} destroyOnClose
      okText={vi.tpl.save} cancelText={vi.common.close} okButtonProps={{ hidden: !editable }} confirmLoading={busy} onOk={() => form.submit()}>
      <ErrorBanner error={q.error} />
      {!adding && latest > 0n && (
        <Form.Item label={vi.tpl.version} htmlFor="tpl-version">
          <Select id="tpl-version" style={{ width: 260 }} value={(version === 0n ? latest : version).toString()}
            onChange={(v: string) => setVersion(BigInt(v) === latest ? 0n : BigInt(v))}
            options={versions.map((n) => ({ value: n.toString(), label: n === latest ? vi.tpl.currentVersion(numberText(n)) : vi.tpl.oldVersion(numberText(n)) }))} />
        </Form.Item>
      )}
      {!current && t && <Alert type="info" showIcon message={vi.tpl.readOnly(timeText(t.updatedAt), whoText(t.updatedBy, names))} style={{ marginBottom: 12 }} />}
      {error !== null && <Alert type="error" showIcon role="alert" message={errorText(error)} style={{ marginBottom: 12 }} />}
      <Form form={form} layout="vertical" disabled={!editable} onFinish={(v) => void save(v)} initialValues={{ code: '', name: '', definition: '' }}>
        <Form.Item name="code" label={vi.tpl.code} rules={[{ required: true, whitespace: true, message: vi.errors.required }]}>
          <Input disabled={!adding} placeholder="BM05/BNV" />
        </Form.Item>
        <Form.Item name="name" label={vi.tpl.name} rules={[{ required: true, whitespace: true, message: vi.errors.required }]}><Input /></Form.Item>
        <Form.Item name="definition" label={vi.tpl.definition} extra={vi.tpl.definitionHint}
          rules={[{ validator: async (_, v: string) => { const p = jsonProblem(v ?? ''); if (p) throw new Error(vi.tpl.badJson(p)); } }]}>
          <Input.TextArea rows={12} className="hoso-code" spellCheck={false} />
        </Form.Item>
      </Form>
    </Modal>
  );
}

function prettyJson(text: string): string {
  try {
    return JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    return text;
  }
}

/* Who saved a version: the person's name where the viewer may know it, else the account id; a
 * shipped version was written by the reporting service itself ("reporting", not an account). */
export function whoText(by: string, names: Map<string, string>): string {
  if (!by) return '';
  return names.get(by) ?? (/^\d+$/.test(by) ? by : vi.tpl.system);
}

export function TemplatesPage() {
  const s = useSession();
  const [tokens, setTokens] = useState<string[]>(['']);
  const q = useQuery(Reporting.method.listReportTemplates, { pageSize: 50, pageToken: tokens[tokens.length - 1] }, { placeholderData: (p) => p });
  const [open, setOpen] = useState<{ code: string; adding: boolean } | null>(null);
  const names = useAccountNames(useMemo(() => (q.data?.templates ?? []).map((t) => t.updatedBy), [q.data]));
  return (
    <Page crumbs={[{ title: vi.menu.home, to: '/' }, { title: vi.menu.templates }]} title={vi.menu.templates}
      extra={s.rights.manageUnits && <Button icon={<PlusOutlined />} onClick={() => setOpen({ code: '', adding: true })}>{vi.tpl.add}</Button>}>
      <ErrorBanner error={q.error} />
      <Table<ReportTemplate> rowKey="code" size="small" bordered loading={q.isFetching} dataSource={q.data?.templates ?? []}
        pagination={false}
        columns={[
          { title: vi.tpl.code, dataIndex: 'code', width: 160, render: (c: string) => <Button type="link" size="small" onClick={() => setOpen({ code: c, adding: false })}>{c}</Button> },
          { title: vi.tpl.name, dataIndex: 'name' },
          { title: vi.tpl.version, dataIndex: 'version', width: 90, align: 'right', render: (v: bigint) => numberText(v) },
          { title: vi.tpl.kind, dataIndex: 'builtin', width: 130, render: (b: boolean) => <Tag>{b ? vi.tpl.builtin : vi.tpl.own}</Tag> },
          { title: vi.tpl.updated, dataIndex: 'updatedAt', width: 160, render: (t: string) => timeText(t) },
          { title: vi.tpl.updatedBy, dataIndex: 'updatedBy', width: 180, render: (b: string) => whoText(b, names) },
        ]}
        footer={() => (
          <>
            <Button disabled={tokens.length < 2} onClick={() => setTokens(tokens.slice(0, -1))}>{vi.common.prev}</Button>{' '}
            <Button disabled={!q.data?.nextPageToken} onClick={() => setTokens([...tokens, q.data?.nextPageToken ?? ''])}>{vi.common.next}</Button>
          </>
        )} />
      {open && <TemplateModal code={open.code} adding={open.adding} onClose={() => setOpen(null)} />}
    </Page>
  );
}
