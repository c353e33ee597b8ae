/* Record import from a file (CSV with a header row of field paths, or JSON: docs/IMPORT_FORMAT):
 * the file is cut into batches ImportRecords takes (lib/importBatches), checked whole first
 * (dry_run) with every row's errors shown on the file's own line numbers, then imported batch
 * by batch with the progress shown; each batch is all or nothing, so a batch refused at the
 * import (a catalogue changed meanwhile) stops it there and says what was imported. */
import { useTransport } from '@connectrpc/connect-query';
import { createClient } from '@connectrpc/connect';
import { UploadOutlined } from '@ant-design/icons';
import { Alert, Button, Card, Form, Progress, Select, Space, Table, Typography, Upload, App as AntApp } from 'antd';
import { useState } from 'react';
import { Link } from 'react-router-dom';
import { errorText, ruleText } from '../../api/errors';
import { useInvalidate } from '../../api/hooks';
import { ImportFormat, Records } from '../../api/gen/records_pb';
import { Page } from '../../components/Page';
import { UnitSelect } from '../../components/Pickers';
import { vi } from '../../i18n/vi';
import { numberText } from '../../lib/format';
import { fileLine, splitCsv, splitJson, type ImportKind, type Split } from '../../lib/importBatches';

interface RowError {
  line: number;
  field: string;
  message: string;
}

type Outcome =
  | { kind: 'checked'; rows: number; errors: RowError[] }
  | { kind: 'done'; imported: number; ids: string[] }
  | { kind: 'stopped'; imported: number; ids: string[]; errors: RowError[] }
  | null;

const kindOf = (name: string): ImportKind => (/\.(json|jsonl|ndjson)$/i.test(name) ? 'json' : 'csv');

export function ImportPage() {
  const transport = useTransport();
  const invalidate = useInvalidate();
  const { message } = AntApp.useApp();
  const [unitId, setUnitId] = useState('');
  const [file, setFile] = useState<File | null>(null);
  const [kind, setKind] = useState<ImportKind>('csv');
  const [progress, setProgress] = useState<{ done: number; total: number; label: string } | null>(null);
  const [outcome, setOutcome] = useState<Outcome>(null);
  const [error, setError] = useState<unknown>(null);

  const split = async (): Promise<Split | null> => {
    if (!file) return null;
    const text = await file.text();
    try {
      return kind === 'csv' ? splitCsv(text) : splitJson(text);
    } catch (e) {
      setError(new Error(`Tệp JSON không đọc được: ${(e as Error).message}`));
      return null;
    }
  };

  /* Sends every batch (dry run or not) until one has errors; the errors on the file's lines. */
  const pass = async (dryRun: boolean, sp: Split) => {
    const client = createClient(Records, transport);
    const enc = new TextEncoder();
    const errors: RowError[] = [];
    const ids: string[] = [];
    let rows = 0;
    for (let i = 0; i < sp.batches.length; i++) {
      const b = sp.batches[i];
      setProgress({ done: i, total: sp.batches.length, label: vi.imports.batches(i + 1, sp.batches.length) });
      const r = await client.importRecords({
        unitId, format: kind === 'csv' ? ImportFormat.CSV : ImportFormat.JSON, content: enc.encode(b.text), dryRun, requestId: crypto.randomUUID(),
      });
      rows += r.rows;
      ids.push(...r.recordIds);
      for (const e of r.errors) errors.push({ line: fileLine(sp, b, e.line), field: e.field, message: ruleText(e.message) });
      if (!dryRun && r.errors.length) break;
    }
    setProgress({ done: sp.batches.length, total: sp.batches.length, label: '' });
    return { rows, errors, ids };
  };

  const check = async () => {
    setError(null);
    setOutcome(null);
    const sp = await split();
    if (!sp) return;
    try {
      const r = await pass(true, sp);
      setOutcome({ kind: 'checked', rows: r.rows, errors: r.errors });
    } catch (e) {
      setError(e);
    } finally {
      setProgress(null);
    }
  };

  const run = async () => {
    setError(null);
    const sp = await split();
    if (!sp) return;
    try {
      const r = await pass(false, sp);
      setOutcome(r.errors.length ? { kind: 'stopped', imported: r.ids.length, ids: r.ids, errors: r.errors } : { kind: 'done', imported: r.ids.length, ids: r.ids });
      if (!r.errors.length) void message.success(vi.imports.done(r.ids.length));
      await invalidate(Records);
    } catch (e) {
      setError(e);
    } finally {
      setProgress(null);
    }
  };

  const errors = outcome && outcome.kind !== 'done' ? outcome.errors : [];
  const ready = !!file && !!unitId && !progress;
  return (
    <Page crumbs={[{ title: vi.menu.home, to: '/' }, { title: vi.imports.title }]} title={vi.imports.title}>
      <Typography.Paragraph type="secondary">{vi.imports.hint}</Typography.Paragraph>
      <Card size="small" style={{ marginBottom: 12 }}>
        <Form layout="vertical">
          <Form.Item label={vi.imports.unit} htmlFor="import-unit" required><UnitSelect id="import-unit" value={unitId} onChange={setUnitId} /></Form.Item>
          <Form.Item label={vi.imports.file} required>
            <Space wrap>
              <Upload accept=".csv,.json,.jsonl,.ndjson,text/csv,application/json" showUploadList={false}
                beforeUpload={(f) => { setFile(f); setKind(kindOf(f.name)); setOutcome(null); return false; }}>
                <Button icon={<UploadOutlined />} aria-label={vi.imports.file}>{vi.tr.chooseFile}</Button>
              </Upload>
              {file && <span>{vi.imports.chosen(file.name, numberText(file.size))}</span>}
              <Select aria-label={vi.imports.format} value={kind} onChange={setKind} style={{ width: 120 }} options={[{ value: 'csv', label: 'CSV' }, { value: 'json', label: 'JSON' }]} />
            </Space>
          </Form.Item>
          <Space>
            <Button disabled={!ready} onClick={() => void check()}>{vi.imports.check}</Button>
            <Button type="primary" disabled={!ready || outcome?.kind !== 'checked' || outcome.errors.length > 0 || outcome.rows === 0} onClick={() => void run()}>{vi.imports.run}</Button>
          </Space>
        </Form>
      </Card>
      {progress && <Progress percent={Math.round((progress.done * 100) / Math.max(progress.total, 1))} status="active" format={() => progress.label} aria-label="Tiến độ nhập" />}
      {error !== null && <Alert type="error" showIcon role="alert" message={errorText(error)} style={{ marginBottom: 12 }} />}
      {outcome?.kind === 'checked' && (outcome.errors.length
        ? <Alert type="error" showIcon role="alert" message={vi.imports.bad(outcome.errors.length)} style={{ marginBottom: 12 }} />
        : <Alert type="success" showIcon message={vi.imports.ok(outcome.rows)} style={{ marginBottom: 12 }} />)}
      {outcome?.kind === 'stopped' && <Alert type="error" showIcon role="alert" message={vi.imports.stopped(outcome.imported)} style={{ marginBottom: 12 }} />}
      {outcome?.kind === 'done' && <Alert type="success" showIcon message={vi.imports.done(outcome.imported)} style={{ marginBottom: 12 }} />}
      {errors.length > 0 && (
        <Table<RowError> rowKey={(_e, i) => String(i)} size="small" dataSource={errors} pagination={{ pageSize: 20, showSizeChanger: false }}
          columns={[
            { title: vi.imports.line, dataIndex: 'line', width: 90 },
            { title: vi.imports.field, dataIndex: 'field', width: 260 },
            { title: vi.imports.message, dataIndex: 'message' },
          ]} />
      )}
      {outcome && outcome.kind !== 'checked' && outcome.ids.length > 0 && (
        <Card size="small" title={vi.imports.imported}>
          <Space wrap>{outcome.ids.slice(0, 50).map((id) => <Link key={id} to={`/records/${id}`}>{id}</Link>)}{outcome.ids.length > 50 && '…'}</Space>
        </Card>
      )}
    </Page>
  );
}
