/* An official report form (BM01/BNV and the others, ListReportTemplates) filled for a unit on a
 * day (as known on a later day, to reproduce a report sent then, or from a monthly snapshot) and
 * downloaded as XLSX, PDF or CSV: RunReport streamed through the gateway's file route, the
 * percentage received shown as the bytes come (the service makes the file whole, then sends it
 * with its size, which the gateway gives as Content-Length; while it is being made, a waiting
 * bar), and the download can be cancelled. */
import { useQuery } from '@connectrpc/connect-query';
import { create, toJson } from '@bufbuild/protobuf';
import { DownloadOutlined } from '@ant-design/icons';
import { Alert, Button, Card, Form, Input, Radio, Select, Typography } from 'antd';
import { useState } from 'react';
import { Format, Reporting, RunReportRequestSchema } from '../../api/gen/reporting_pb';
import { DownloadProgress, useDownload } from '../../components/DownloadProgress';
import { ErrorBanner } from '../../components/ErrorBanner';
import { Page } from '../../components/Page';
import { DateField, UnitSelect } from '../../components/Pickers';
import { vi } from '../../i18n/vi';
import { numberText } from '../../lib/format';
import { lastYearEnd, monthText } from '../../lib/reports';
import { fileErrorText, isCancelled, postForFile, saveFile } from '../../lib/streams';

interface Values {
  template: string;
  unitId?: string;
  asOf?: string;
  knownOn?: string;
  snapshotId?: string;
  format: Format;
  signerName?: string;
  preparedBy?: string;
}

export function OfficialReportPage() {
  const templates = useQuery(Reporting.method.listReportTemplates, { pageSize: 100 });
  const snapshots = useQuery(Reporting.method.listSnapshots, { pageSize: 36 });
  const [form] = Form.useForm<Values>();
  const dl = useDownload();
  const [done, setDone] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);

  const run = async (v: Values) => {
    setError(null);
    setDone(null);
    try {
      const req = create(RunReportRequestSchema, {
        template: v.template, unitId: v.unitId ?? '', format: v.format,
        // a snapshot stands for the day and the knowledge both (the service takes one or the other)
        when: v.snapshotId ? { snapshotId: v.snapshotId } : { asOf: v.asOf ?? '', knownOn: v.knownOn ?? '' },
        signerName: (v.signerName ?? '').normalize('NFC'), preparedBy: (v.preparedBy ?? '').normalize('NFC'),
      });
      const f = await dl.run((signal, progress) => postForFile('/v1/reports:run', toJson(RunReportRequestSchema, req),
        (n, total) => progress({ done: n, total, text: vi.files.received(numberText(n), total === null ? null : numberText(total)) }), signal));
      saveFile(f);
      setDone(vi.rep.made(f.fileName, numberText(f.size)));
    } catch (e) {
      setError(e);
    }
  };

  return (
    <Page crumbs={[{ title: vi.menu.home, to: '/' }, { title: vi.menu.officialReports }]} title={vi.menu.officialReports}>
      <Typography.Paragraph type="secondary">{vi.rep.formHint}</Typography.Paragraph>
      <ErrorBanner error={templates.error} />
      <Card size="small" style={{ maxWidth: 760 }}>
        <Form form={form} layout="vertical" onFinish={(v) => void run(v)} onValuesChange={() => setDone(null)}
          initialValues={{ asOf: lastYearEnd(new Date()), format: Format.XLSX }}>
          <Form.Item name="template" label={vi.rep.template} rules={[{ required: true, message: vi.errors.required }]}>
            <Select loading={templates.isLoading} showSearch optionFilterProp="label"
              options={(templates.data?.templates ?? []).map((t) => ({ value: t.code, label: `${t.code} — ${t.name}` }))} />
          </Form.Item>
          <Form.Item name="unitId" label={vi.rep.unit}><UnitSelect /></Form.Item>
          <Form.Item name="snapshotId" label={vi.snap.source}>
            <Select allowClear placeholder={vi.snap.live} loading={snapshots.isLoading}
              options={(snapshots.data?.snapshots ?? []).map((x) => ({ value: x.id, label: `${vi.snap.snapshot} ${monthText(x.month)}` }))} />
          </Form.Item>
          <Form.Item noStyle shouldUpdate={(a, b) => a.snapshotId !== b.snapshotId}>
            {() => !form.getFieldValue('snapshotId') && <>
              <Form.Item name="asOf" label={vi.rep.asOf}><DateField /></Form.Item>
              <Form.Item name="knownOn" label={vi.snap.knownOn} extra={vi.snap.knownOnHint}><DateField /></Form.Item>
            </>}
          </Form.Item>
          <Form.Item name="format" label={vi.rep.format}>
            <Radio.Group options={[{ value: Format.XLSX, label: 'Excel (XLSX)' }, { value: Format.PDF, label: 'PDF' }, { value: Format.CSV, label: 'CSV' }]} />
          </Form.Item>
          <Form.Item name="preparedBy" label={vi.rep.preparedBy}><Input /></Form.Item>
          <Form.Item name="signerName" label={vi.rep.signer}><Input /></Form.Item>
          {error !== null && <Alert type={isCancelled(error) ? 'info' : 'error'} showIcon role="alert" message={fileErrorText(error, vi.files.cut)} style={{ marginBottom: 12 }} />}
          <DownloadProgress state={dl.state} onCancel={dl.cancel} label={vi.rep.run} waiting={vi.rep.making} />
          {done && <Alert type="success" showIcon message={done} style={{ marginBottom: 12 }} />}
          <Button type="primary" htmlType="submit" icon={<DownloadOutlined />} loading={dl.state !== null}>{vi.rep.run}</Button>
        </Form>
      </Card>
    </Page>
  );
}
